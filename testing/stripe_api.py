"""Stripe for unit tests: the published payloads of ../shared/stripe/fixtures, its API mocked
with `responses` in their shapes (the SDK speaks through `requests`), and signed webhook
deliveries."""

import itertools
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

from django.conf import settings

from testing.clients import signed_post

STRIPE_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "stripe" / "fixtures"
STRIPE_TEST_KEY = "sk_test_0000000000000000000000000000000000000000"
STRIPE_WEBHOOK_TEST_SECRET = "whsec_test_0000000000000000000000000000000"
WEBHOOK_PATH = "/ai/api/webhooks/stripe/"
# A Stripe error message with something secret-looking in it: it must never reach our logs.
STRIPE_ERROR_MESSAGE = "Something broke near sk_test_leaked_by_the_sdk_message"
_event_serial = itertools.count(1)


def stripe_json(name: str):
    """A published Stripe payload from ../shared/stripe/fixtures."""
    return json.loads((STRIPE_FIXTURES / name).read_bytes())


class StripeMock:
    """Stripe's API mocked with `responses`, answering in the shapes of the shared fixtures."""

    def __init__(self, mock, base_url):
        self.mock = mock
        self.base = base_url

    def session(self, purchase, **changes) -> dict:
        """The published Checkout Session, re-aimed at one of our purchases."""
        from ai_features.credits.money import to_minor_units

        body = stripe_json("checkout_session.created.json")
        body.update(
            client_reference_id=purchase.payment_reference,
            amount_total=to_minor_units(purchase.total_amount),
            amount_subtotal=to_minor_units(purchase.total_amount),
            currency=purchase.currency.lower(),
            metadata={"reference": purchase.payment_reference},
        )
        if purchase.checkout_session_id:
            body["id"] = purchase.checkout_session_id
        body.update(changes)
        return body

    def create_ok(self, **changes) -> dict:
        body = stripe_json("checkout_session.created.json")
        body.update(changes)
        self.mock.post(f"{self.base}/v1/checkout/sessions", json=body)
        return body

    def retrieve(self, purchase, **changes) -> dict:
        body = self.session(purchase, **changes)
        self.mock.get(f"{self.base}/v1/checkout/sessions/{body['id']}", json=body)
        return body

    def calls_to(self, path):
        return [c for c in self.mock.calls if c.request.url.startswith(self.base + path)]

    def create_error(self, *, status=None, body=None, exc=None):
        """Checkout Session create failing: an HTTP error in Stripe's error shape, or a
        network exception for `requests` to raise."""
        return self._error("POST", f"{self.base}/v1/checkout/sessions", status, body, exc)

    def retrieve_error(self, session_id, *, status=None, body=None, exc=None):
        url = f"{self.base}/v1/checkout/sessions/{session_id}"
        return self._error("GET", url, status, body, exc)

    def _error(self, method, url, status, body, exc):
        if exc is not None:
            return self.mock.add(method, url, body=exc)
        body = body or {"error": {"type": "api_error", "message": STRIPE_ERROR_MESSAGE}}
        return self.mock.add(method, url, status=status or 500, json=body)

    def sent_form(self, index=-1) -> dict:
        """The form a Checkout Session create sent, decoded (one value per key)."""
        call = self.calls_to("/v1/checkout/sessions")[index]
        return dict(parse_qsl(call.request.body, keep_blank_values=True))


def stripe_priced(code="value", price="6.50", price_id="") -> None:
    """Give a package a price in the Stripe currency (and a Stripe Price id, if given)."""
    from ai_features.models import CreditPackage

    CreditPackage.objects.filter(code=code).update(
        stripe_price=Decimal(price), stripe_price_id=price_id
    )


def stripe_event(event_type: str, data_object: dict, event_id: str | None = None) -> dict:
    """The published `checkout.session.completed` envelope carrying another type and object."""
    event = stripe_json("event.checkout.session.completed.json")
    event.update(type=event_type, id=event_id or f"evt_test_{next(_event_serial):06d}")
    event["data"] = {"object": data_object}
    return event


def session_event(purchase, event_type="checkout.session.completed", event_id=None, **changes):
    """A checkout.session.* event as Stripe sends it (the published completed, paid one),
    re-aimed at one of our purchases."""
    from ai_features.credits.money import to_minor_units

    session = stripe_json("event.checkout.session.completed.json")["data"]["object"]
    session.update(
        id=purchase.checkout_session_id,
        client_reference_id=purchase.payment_reference,
        amount_total=to_minor_units(purchase.total_amount),
        amount_subtotal=to_minor_units(purchase.total_amount),
        currency=purchase.currency.lower(),
        metadata={"purchase_id": str(purchase.pk), "reference": purchase.payment_reference},
        status="complete",
        payment_intent=f"pi_test_{purchase.pk:06d}",
    )
    session.update(changes)
    return stripe_event(event_type, session, event_id)


def charge_refunded_event(purchase, amount_refunded, event_id=None, **changes):
    """`charge.refunded` with the current Charge shape (charge.json), re-aimed at a purchase."""
    from ai_features.credits.money import to_minor_units

    charge = stripe_json("charge.json")
    amount = to_minor_units(purchase.total_amount)
    charge.update(
        id=f"ch_test_{purchase.pk:06d}",
        amount=amount,
        amount_captured=amount,
        amount_refunded=amount_refunded,
        refunded=amount_refunded == amount,
        currency=purchase.currency.lower(),
        payment_intent=purchase.payment_intent_id or f"pi_test_{purchase.pk:06d}",
        metadata={"purchase_id": str(purchase.pk), "reference": purchase.payment_reference},
    )
    charge.update(changes)
    return stripe_event("charge.refunded", charge, event_id)


def stripe_signature(raw: bytes, secret=STRIPE_WEBHOOK_TEST_SECRET, timestamp=None) -> str:
    """A `Stripe-Signature` header for these bytes, made by the real SDK."""
    import stripe

    return stripe.WebhookSignature.generate_signature_header(
        raw.decode(), secret, timestamp=timestamp
    )


def deliver_stripe(client, raw, signature="sign"):
    """POST a body (bytes, or a dict to serialise) to the Stripe webhook, signed by default."""
    if isinstance(raw, dict):
        raw = json.dumps(raw).encode()
    return signed_post(
        client, WEBHOOK_PATH, raw, "HTTP_STRIPE_SIGNATURE", stripe_signature, signature
    )
