"""Helpers for the tests that run the app and the sandbox's stand-ins on one live server
(pytest-django's, threaded, on PostgreSQL), every step over HTTP as `make run` wires them; the
fixtures `live_app` and `live_owner` are in sandbox/conftest.py.

Every request here is sent on a connection of its own, closed after it: a kept-alive one
would keep its server thread, and that thread's database connection, past the test.
"""

import re
from decimal import Decimal

import requests

from sandbox.paystack.tests.helpers import SECRET
from sandbox.stripe.tests.helpers import STRIPE_KEY

TIMEOUT = 30  # seconds: no HTTP call, wait or join in these tests lasts longer
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """Sends every request with `headers` on a connection of its own (`requests.request`)."""

    def __init__(self, **headers):
        self.headers = headers

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        timeout = kwargs.pop("timeout", TIMEOUT)
        return requests.request(method, url, headers=headers, timeout=timeout, **kwargs)

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        return self.request("POST", url, **kwargs)


def press(page_url: str, action: str, **fields) -> requests.Response:
    """Open a sandbox page in a fresh browser session and submit its form with `action`."""
    page = requests.get(page_url, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    data = {"action": action, "csrfmiddlewaretoken": CSRF.search(page.text)[1], **fields}
    # Not followed: the SPA's callback page is not served here.
    return requests.post(
        page.url, data=data, cookies=page.cookies, allow_redirects=False, timeout=TIMEOUT
    )


def buy(app: str, owner: Client, package: str, gateway: str = "paystack") -> str:
    """Buy a package through a sandbox checkout, paid; the purchase's reference. The gateway's
    webhook credits it before the checkout page answers."""
    started = owner.post(
        f"{app}/ai/api/credits/purchase/",
        json={"package": package, "gateway": gateway},
    )
    assert started.status_code == 201, started.text
    body = started.json()
    paid = press(body.get("authorization_url") or body["checkout_url"], "pay")
    assert paid.status_code == 302, paid.text
    return body["reference"]


def balance(app: str, owner: Client) -> Decimal:
    answer = owner.get(f"{app}/ai/api/credits/balance/")
    assert answer.status_code == 200, answer.text
    return Decimal(str(answer.json()["balance"]))


def paystack_call(app: str, method: str, path: str, body: dict) -> requests.Response:
    """A call to the Paystack sandbox's API with its secret key, as Paystack is called."""
    return requests.request(
        method,
        f"{app}/sandbox/paystack/{path}",
        json=body,
        headers={"Authorization": f"Bearer {SECRET}"},
        timeout=TIMEOUT,
    )


def stripe_call(app: str, path: str, form: dict) -> requests.Response:
    """A POST to the Stripe stand-in's v1 API, form-encoded with a test key, as Stripe's."""
    return requests.post(
        f"{app}/sandbox/stripe/v1/{path}",
        data=form,
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=TIMEOUT,
    )
