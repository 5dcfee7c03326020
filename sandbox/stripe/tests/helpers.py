"""Helpers for the Stripe stand-in's tests: the real `stripe` SDK wired to Django's test client,
and readers for the webhooks the stand-in sends."""

import json
from urllib.parse import urlsplit

import stripe
from django.test import Client
from requests.structures import CaseInsensitiveDict

from sandbox.stripe.models import StripeSandboxEvent

STRIPE_KEY = "sk_test_sandbox_stripe_standin"
WEBHOOK_SECRET = "whsec_sandbox_standin_secret"
STRIPE_HOOK_URL = "http://hooks.test/ai/api/webhooks/stripe/"
SERVER = "http://testserver"
# What the app sets as STRIPE_API_BASE: the mount point, without a trailing slash.
API_BASE = f"{SERVER}/sandbox/stripe"
API = "/sandbox/stripe/v1"
SUCCESS_URL = "http://shop.test/payment/callback?gateway=stripe&session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://shop.test/payment/callback?gateway=stripe&cancelled=1&reference=REF-1"


class DjangoClientHTTP(stripe.HTTPClient):
    """An SDK HTTP client that hands each request to Django's test client, unchanged."""

    name = "django-test-client"

    def __init__(self, client: Client):
        super().__init__()
        self.client = client
        self.sent: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        """Forward one SDK request; answer `(body, status, headers)` as the SDK expects."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == SERVER, url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/octet-stream")
        self.sent.append({"method": method, "path": path, "headers": headers, "body": post_data})
        answer = self.client.generic(
            method.upper(), path, post_data or "", content_type=content_type, headers=headers
        )
        return answer.content, answer.status_code, CaseInsensitiveDict(answer.items())

    def close(self):
        """Nothing to close: the test client holds no connections."""


def sdk_client(http: DjangoClientHTTP, api_key: str = STRIPE_KEY) -> stripe.StripeClient:
    """The StripeClient the app builds, with the test client as its transport."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": API_BASE},
        http_client=http,
        max_network_retries=0,
    )


def hook_calls(mock) -> list:
    """The webhook POSTs `responses` caught, in order."""
    return [call for call in mock.calls if call.request.url == STRIPE_HOOK_URL]


def raw_body(call) -> bytes:
    body = call.request.body
    return body.encode() if isinstance(body, str) else body


def verified_event(call, secret: str = WEBHOOK_SECRET) -> stripe.Event:
    """The event a webhook POST carried, after the SDK verified its signature on the raw bytes."""
    return stripe.Webhook.construct_event(
        raw_body(call), call.request.headers["Stripe-Signature"], secret, tolerance=300
    )


def event_types(mock) -> list[str]:
    return [json.loads(raw_body(call))["type"] for call in hook_calls(mock)]


def recorded(event_type: str) -> StripeSandboxEvent:
    return StripeSandboxEvent.objects.get(type=event_type)


def credit_price(sdk, *, unit_amount: int = 999, name: str = "Value pack") -> str:
    """A product with one active USD price, as the setup command leaves a package; its id."""
    product = sdk.v1.products.create(params={"name": name, "metadata": {"package": "value"}})
    price = sdk.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": unit_amount}
    )
    return price.id


def session_params(price_id: str, **overrides) -> dict:
    """What the app sends for a purchase (design section 13); `field=...` leaves one out."""
    params = {
        "mode": "payment",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "AI-CRED-0001",
        "customer_email": "ama@example.com",
        "metadata": {"purchase_id": "7", "business_id": "3"},
        "payment_intent_data": {"metadata": {"reference": "AI-CRED-0001", "purchase_id": "7"}},
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not ...}


def open_session(sdk, price_id: str | None = None, **overrides):
    """A fresh open Checkout Session for one package."""
    price_id = price_id or credit_price(sdk)
    return sdk.v1.checkout.sessions.create(params=session_params(price_id, **overrides))


def page_path(session) -> str:
    """The checkout page's path, from the session's own `url`."""
    assert session.url.startswith(f"{SERVER}/sandbox/stripe/checkout/"), session.url
    return session.url.removeprefix(SERVER)
