"""Paystack for unit tests: the published payloads of ../shared/paystack/fixtures, its API
mocked with `responses` in their shapes, and signed webhook deliveries."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.conf import settings

from testing.clients import signed_post

PAYSTACK_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "paystack" / "fixtures"
# The dummy key of the shared signature vectors.
TEST_SECRET = "sk_test_0000000000000000000000000000000000000000"
WEBHOOK_PATH = "/ai/api/webhooks/paystack/"


def paystack_raw(name: str) -> bytes:
    """The exact bytes of a published Paystack payload in ../shared/paystack/fixtures."""
    return (PAYSTACK_FIXTURES / name).read_bytes()


def paystack_json(name: str):
    """A published Paystack payload, parsed."""
    return json.loads(paystack_raw(name))


class PaystackMock:
    """Paystack's API mocked with `responses`, answering in the shapes of the shared fixtures."""

    def __init__(self, mock, base_url):
        self.mock = mock
        self.base = base_url

    def initialize_ok(self):
        body = paystack_json("initialize_success.paystack-docs.json")
        self.mock.post(f"{self.base}/transaction/initialize", json=body)
        return body["data"]

    def verify(self, reference, *, status="success", amount=None, currency="GHS", **extra):
        """A verify answer built on the real GHS mobile-money success payload."""
        from ai_features.credits.money import to_minor_units
        from ai_features.models import AICreditPurchase

        if amount is None:
            total = AICreditPurchase.objects.get(payment_reference=reference).total_amount
            amount = to_minor_units(total)
        data = paystack_json("verify_data_success_mobile_money_ghs.jsonb-reordered.json")
        data.update(reference=reference, status=status, amount=amount, currency=currency, **extra)
        self.mock.get(
            f"{self.base}/transaction/verify/{reference}",
            json={"status": True, "message": "Verification successful", "data": data},
        )
        return data

    def calls_to(self, path):
        return [c for c in self.mock.calls if c.request.url.startswith(self.base + path)]


def sign(raw: bytes, secret: str = TEST_SECRET) -> str:
    """The `x-paystack-signature` Paystack sends with these bytes."""
    return hmac.new(secret.encode(), raw, hashlib.sha512).hexdigest()


def charge_success_body(reference: str, amount: int, currency: str = "GHS") -> bytes:
    """The published GHS mobile-money charge.success webhook, re-aimed at one of our purchases."""
    payload = paystack_json("webhook_charge_success_mobile_money_ghs.paystack-docs.json")
    payload["data"].update(reference=reference, amount=amount, currency=currency)
    return json.dumps(payload).encode()


# Amount literals no genuine Paystack event carries, as raw JSON; None leaves the key out.
# Python's json reads the bare NaN, Infinity and 1e400 as non-finite floats.
BAD_AMOUNTS = [
    pytest.param(b'"NaN"', id="NaN-string"),
    pytest.param(b"NaN", id="NaN-token"),
    pytest.param(b"-Infinity", id="minus-infinity-token"),
    pytest.param(b"-100", id="negative"),
    pytest.param(b'"-9400"', id="negative-string"),
    pytest.param(b"0", id="zero"),
    pytest.param(None, id="missing"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"94.00"', id="cedis-string"),
    pytest.param(b"9400.0", id="float"),
    pytest.param(b"1e400", id="huge-float"),
    pytest.param(b"1" + b"0" * 30, id="huge-int"),
    pytest.param(b'"' + b"9" * 30 + b'"', id="huge-string"),
    pytest.param(b"true", id="bool"),
    pytest.param(b'{"value": 9400}', id="object"),
]


def with_amount(payload: dict, literal: bytes | None) -> bytes:
    """`payload` as JSON bytes with its data.amount replaced by a raw literal (or left out)."""
    if literal is None:
        del payload["data"]["amount"]
        return json.dumps(payload).encode()
    payload["data"]["amount"] = "__AMOUNT__"
    return json.dumps(payload).encode().replace(b'"__AMOUNT__"', literal)


def deliver_webhook(client, raw: bytes, signature: str | None = "sign"):
    """POST raw bytes to the Paystack webhook, signed by default (None sends no signature)."""
    return signed_post(client, WEBHOOK_PATH, raw, "HTTP_X_PAYSTACK_SIGNATURE", sign, signature)


def credited_purchase(business, package="value"):
    """A Paystack purchase, paid and credited through the real fulfilment path."""
    from ai_features.credits.money import to_minor_units
    from ai_features.payments.fulfilment import purchase_fulfil
    from ai_features.payments.gateways.paystack import paystack_verdict
    from testing.factories import PurchaseFactory

    purchase = PurchaseFactory(business=business, package=package)
    data = {"status": "success", "reference": purchase.payment_reference, "currency": "GHS"}
    data["amount"] = to_minor_units(purchase.total_amount)
    purchase_fulfil(purchase_id=purchase.pk, verdict=paystack_verdict(data), source="test")
    purchase.refresh_from_db()
    return purchase


def refund_event(purchase, amount, *, event="refund.processed", refund_reference="RF-1", **extra):
    """The published refund.processed sample (amount a string), aimed at our purchase."""
    name = {
        "refund.processed": "webhook_refund_processed.paystack-docs.json",
        "refund.pending": "webhook_refund_pending.paystack-docs.json",
        "refund.processing": "webhook_refund_processing.paystack-docs.json",
        "refund.failed": "webhook_refund_failed.paystack-docs.json",
        "refund.needs-attention": "webhook_refund_needs_attention.paystack-docs.json",
    }[event]
    payload = paystack_json(name)
    payload["data"].update(
        transaction_reference=purchase.payment_reference,
        refund_reference=refund_reference,
        amount=amount,
        currency="GHS",
        **extra,
    )
    return json.dumps(payload).encode()
