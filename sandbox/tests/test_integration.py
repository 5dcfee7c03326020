"""The real PaystackService, unchanged, against the sandbox's views.

`requests` cannot reach Django's test client, so `responses` forwards each HTTP call made to
http://testserver into the test client and hands its answer back to `requests`.
"""

import re
from urllib.parse import urlsplit

import pytest
import requests
import responses
from django.test import Client

from ai_features.credits.money import to_minor_units
from ai_features.models import AICreditPurchase, WebhookEvent
from ai_features.payments.gateways.paystack import (
    PaystackAuthError,
    PaystackNotFound,
    PaystackRequestError,
    PaystackService,
)
from sandbox.paystack.models import SandboxTransaction
from sandbox.paystack.tests.helpers import SECRET
from testing.credits import stored_balance

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

SERVER = "http://testserver"
BASE = f"{SERVER}/sandbox/paystack"
RECEIVER = f"{SERVER}/ai/api/webhooks/paystack/"
SKIPPED_HEADERS = {"content-type", "content-length", "host"}


def forward_into(client: Client):
    """A `responses` callback that replays a `requests` call through Django's test client."""

    def callback(request):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIPPED_HEADERS}
        answer = client.generic(
            request.method,
            path,
            body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
        )
        return answer.status_code, dict(answer.items()), answer.content

    return callback


@pytest.fixture
def wire(settings):
    """Every `requests` call to http://testserver lands in Django; nothing else leaves."""
    settings.PAYSTACK_BASE_URL = BASE
    settings.PAYSTACK_TIMEOUT_SECONDS = 5
    client = Client(enforce_csrf_checks=True)  # the API is CSRF-exempt, as Paystack is
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(SERVER) + "/.*"), forward_into(client))
        yield mock


def browser_submit(authorization_url: str, action: str, capture):
    """What a person does on the checkout page: open it, then press a button."""
    browser = Client(enforce_csrf_checks=True)
    path = urlsplit(authorization_url).path
    page = browser.get(path)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    with capture(execute=True):
        return browser.post(path, {"action": action, "csrfmiddlewaretoken": token})


def test_the_real_client_runs_a_whole_payment_against_the_sandbox(
    wire, settings, django_capture_on_commit_callbacks
):
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = ""  # this test is about the API, not the webhook
    paystack = PaystackService()

    checkout = paystack.initialize_transaction(
        email="ama@example.com",
        amount=9400,
        currency="GHS",
        reference="AI-INT-0001",
        callback_url="http://shop.test/payment/callback",
        channels=["mobile_money"],
        metadata={"purchase_id": 1},
    )
    assert checkout["reference"] == "AI-INT-0001"
    assert checkout["authorization_url"] == f"{BASE}/checkout/{checkout['access_code']}"

    before = paystack.verify_transaction(reference="AI-INT-0001")
    assert before["status"] == "abandoned"

    redirect = browser_submit(
        checkout["authorization_url"], "pay", django_capture_on_commit_callbacks
    )
    assert redirect["Location"].endswith("?trxref=AI-INT-0001&reference=AI-INT-0001")

    after = paystack.verify_transaction(reference="AI-INT-0001")
    assert (after["status"], after["amount"], after["currency"]) == ("success", 9400, "GHS")
    assert after["metadata"] == {"purchase_id": 1}


def test_the_real_client_maps_the_sandboxs_errors(wire):
    paystack = PaystackService()
    fields = {
        "email": "ama@example.com",
        "amount": 100,
        "currency": "GHS",
        "reference": "AI-INT-0002",
        "callback_url": "http://shop.test/cb",
        "channels": ["card"],
        "metadata": {},
    }
    paystack.initialize_transaction(**fields)

    with pytest.raises(PaystackRequestError) as duplicate:
        paystack.initialize_transaction(**fields)
    assert duplicate.value.paystack_code == "duplicate_reference"
    assert duplicate.value.http_status == 400

    with pytest.raises(PaystackNotFound):
        paystack.verify_transaction(reference="NOPE-1")

    with pytest.raises(PaystackAuthError):
        PaystackService(secret_key="sk_test_wrong").verify_transaction(reference="AI-INT-0002")
    assert SandboxTransaction.objects.count() == 1


def test_a_purchase_is_credited_and_refunded_through_the_sandbox_end_to_end(
    wire, settings, api, business, django_capture_on_commit_callbacks
):
    """The product's own purchase API, the sandbox's checkout and refund, and the sandbox's
    signed webhooks delivered to the product's real webhook endpoint."""
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = RECEIVER
    assert settings.PAYSTACK_SECRET_KEY == SECRET

    started = api.post("/ai/api/credits/purchase/", {"package": "value"}, format="json")
    assert started.status_code == 201, started.content
    reference = started.json()["reference"]
    purchase = AICreditPurchase.objects.get(payment_reference=reference)
    txn = SandboxTransaction.objects.get(reference=reference)
    assert txn.amount == to_minor_units(purchase.total_amount)

    redirect = browser_submit(
        started.json()["authorization_url"], "pay", django_capture_on_commit_callbacks
    )
    assert redirect.status_code == 302
    charge = WebhookEvent.objects.get(event="charge.success")
    assert charge.signature_valid is True and charge.outcome == "credited"
    assert stored_balance(business) == purchase.total_credits

    with django_capture_on_commit_callbacks(execute=True):
        answer = requests.post(
            f"{BASE}/refund",
            json={"transaction": reference, "amount": to_minor_units(purchase.total_amount) // 4},
            headers={"Authorization": f"Bearer {SECRET}"},
            timeout=5,
        )
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "pending"

    refund = WebhookEvent.objects.get(event="refund.processed")
    assert refund.signature_valid is True and refund.outcome == "refunded"
    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert stored_balance(business) == purchase.total_credits * 3 / 4
