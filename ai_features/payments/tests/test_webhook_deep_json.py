"""A webhook body nested too deeply for Python's JSON parser (issue 19, item 5) is stored and
answered as a malformed delivery (unsigned: as an unsigned one), never a RecursionError and a
500, and credits nothing. At 1,000 levels (a 2 KB body, as the attack sent) and 100,000."""

import json
import logging

import pytest

from ai_features.models import CreditLedgerEntry, WebhookEvent
from testing.credits import stored_balance
from testing.factories import PurchaseFactory, StripePurchaseFactory
from testing.paystack_api import charge_success_body, deliver_webhook
from testing.stripe_api import deliver_stripe, stripe_priced

pytestmark = pytest.mark.django_db
LEVELS = [pytest.param(1_000, id="1k-levels"), pytest.param(100_000, id="100k-levels")]


def nested(payload: dict, levels: int) -> bytes:
    """`payload` as JSON with `"deep": [[[…]]]`, `levels` deep, added to its data (a 1,000 level
    body is about 2 KB, as the attack sent)."""
    text = json.dumps({**payload, "data": {**payload["data"], "deep": "__DEEP__"}})
    return text.replace('"__DEEP__"', "[" * levels + "]" * levels).encode()


def no_errors_logged(caplog) -> bool:
    return not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("levels", LEVELS)
def test_a_signed_paystack_delivery_nested_too_deeply_is_stored_as_malformed(
    client, business, paystack_settings, caplog, levels
):
    purchase = PurchaseFactory(business=business)
    raw = nested(json.loads(charge_success_body(purchase.payment_reference, 9400)), levels)

    response = deliver_webhook(client, raw)

    assert response.status_code == 400
    assert response.json() == {"received": False, "outcome": "malformed"}
    delivery = WebhookEvent.objects.get()
    assert (delivery.signature_valid, delivery.outcome) == (True, "malformed")
    assert delivery.body_size == len(raw)
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()
    assert no_errors_logged(caplog)


@pytest.mark.parametrize("levels", LEVELS)
def test_an_unsigned_paystack_delivery_nested_too_deeply_is_stored_as_unsigned(
    client, business, paystack_settings, caplog, levels
):
    purchase = PurchaseFactory(business=business)
    raw = nested(json.loads(charge_success_body(purchase.payment_reference, 9400)), levels)

    response = deliver_webhook(client, raw, signature="0" * 128)

    assert response.status_code == 400
    assert response.json() == {"received": False, "outcome": "invalid_signature"}
    delivery = WebhookEvent.objects.get()
    assert (delivery.signature_valid, delivery.outcome) == (False, "invalid_signature")
    assert stored_balance(business) == 0
    assert no_errors_logged(caplog)


@pytest.fixture
def stripe_purchase(business, stripe_settings):
    stripe_priced("value", "10.00")
    return StripePurchaseFactory(business=business)


def stripe_completed(purchase) -> dict:
    return {
        "id": "evt_deep",
        "type": "checkout.session.completed",
        "data": {"object": {"client_reference_id": purchase.payment_reference}},
    }


@pytest.mark.parametrize("levels", LEVELS)
def test_a_signed_stripe_delivery_nested_too_deeply_is_stored_as_malformed(
    client, business, stripe_purchase, caplog, levels
):
    raw = nested(stripe_completed(stripe_purchase), levels)

    response = deliver_stripe(client, raw)

    assert response.status_code == 400
    assert response.json() == {"received": False, "outcome": "malformed"}
    delivery = WebhookEvent.objects.get()
    assert (delivery.gateway, delivery.signature_valid) == ("stripe", True)
    assert delivery.outcome == "malformed"
    stripe_purchase.refresh_from_db()
    assert stripe_purchase.payment_status == "pending"
    assert stored_balance(business) == 0
    assert no_errors_logged(caplog)


@pytest.mark.parametrize("levels", LEVELS)
def test_an_unsigned_stripe_delivery_nested_too_deeply_is_stored_as_unsigned(
    client, business, stripe_purchase, caplog, levels
):
    raw = nested(stripe_completed(stripe_purchase), levels)

    response = deliver_stripe(client, raw, signature=None)

    assert response.status_code == 400
    delivery = WebhookEvent.objects.get()
    assert (delivery.gateway, delivery.outcome) == ("stripe", "invalid_signature")
    assert (delivery.event, delivery.event_id) == ("", "")  # not read: too deep
    assert no_errors_logged(caplog)
