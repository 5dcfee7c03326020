"""refund.processed takes the refunded share of a purchase's credits back (rule 7.5)."""

import json
from decimal import Decimal

import pytest

from ai_features.models import CreditLedgerEntry, PurchaseRefund, WebhookEvent
from testing.credits import deduct_credits, ledger_sum, stored_balance
from testing.factories import PurchaseFactory
from testing.paystack_api import (
    BAD_AMOUNTS,
    charge_success_body,
    credited_purchase,
    deliver_webhook,
    refund_event,
    with_amount,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("literal", BAD_AMOUNTS)
def test_a_signed_refund_with_a_bad_amount_is_rejected_with_200(
    client, business, paystack_settings, literal
):
    """Regression: a refund with no amount (or NaN, or a negative one) answered 500."""
    purchase = credited_purchase(business)
    payload = json.loads(refund_event(purchase, "9400"))

    response = deliver_webhook(client, with_amount(payload, literal))

    assert response.status_code == 200
    delivery = WebhookEvent.objects.get()
    assert delivery.outcome == "rejected" and "amount" in delivery.detail
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and purchase.refunded_credits == 0
    assert not PurchaseRefund.objects.exists()
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)


def test_a_full_refund_takes_all_the_credits_back(client, business, paystack_settings):
    purchase = credited_purchase(business)

    response = deliver_webhook(client, refund_event(purchase, "9400"))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert (purchase.refunded_credits, purchase.refund_shortfall) == (Decimal("100"), 0)
    assert stored_balance(business) == 0 == ledger_sum(business)
    entry = CreditLedgerEntry.objects.filter(kind="refund").get()
    assert (entry.amount, entry.purchase) == (Decimal("-100.00"), purchase)


def test_a_partial_refund_takes_the_refunded_share(client, business, paystack_settings):
    purchase = credited_purchase(business)

    deliver_webhook(client, refund_event(purchase, 4700))  # half of 94.00, as an integer

    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert purchase.refunded_credits == Decimal("50.00")
    assert stored_balance(business) == Decimal("50.00") == ledger_sum(business)


def test_a_refund_after_spending_stops_at_zero_and_records_the_shortfall(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)
    deduct_credits(business, "70", kind="usage")

    deliver_webhook(client, refund_event(purchase, "9400"))

    purchase.refresh_from_db()
    assert stored_balance(business) == Decimal("0.00") == ledger_sum(business)
    assert purchase.refunded_credits == Decimal("30.00")
    assert purchase.refund_shortfall == Decimal("70.00")
    refund = PurchaseRefund.objects.get()
    assert (refund.credits_clawed_back, refund.shortfall) == (Decimal("30.00"), Decimal("70.00"))


def test_a_replayed_refund_is_applied_once(client, business, paystack_settings):
    purchase = credited_purchase(business)
    raw = refund_event(purchase, 4700)

    deliver_webhook(client, raw)
    deliver_webhook(client, raw)

    assert stored_balance(business) == Decimal("50.00")
    assert PurchaseRefund.objects.count() == 1
    assert WebhookEvent.objects.order_by("id").last().outcome == "already_processed"


def test_two_partial_refunds_never_take_more_than_the_purchase_gave(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)
    credited_purchase(business, package="starter")  # other credits the refund must not touch

    deliver_webhook(client, refund_event(purchase, 7050, refund_reference="RF-1"))
    deliver_webhook(client, refund_event(purchase, 7050, refund_reference="RF-2"))

    purchase.refresh_from_db()
    assert purchase.refunded_credits == Decimal("100.00")
    assert stored_balance(business) == Decimal("30.00") == ledger_sum(business)


def test_a_refund_of_a_purchase_never_credited_takes_nothing(client, business, paystack_settings):
    purchase = PurchaseFactory(business=business)
    credited_purchase(business, package="starter")

    deliver_webhook(client, refund_event(purchase, "9400"))

    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and purchase.refunded_credits == 0
    assert stored_balance(business) == Decimal("30.00")
    assert PurchaseRefund.objects.get(purchase=purchase).credits_clawed_back == 0


def test_repeated_refunds_of_a_never_credited_purchase_never_touch_other_credits(
    client, business, paystack_settings
):
    # Regression: the first refund marked the purchase refunded, and the second then treated it
    # as credited and took 21.28 of the premium purchase's credits.
    purchase = PurchaseFactory(business=business)
    credited_purchase(business, package="premium")

    deliver_webhook(client, refund_event(purchase, 2000, refund_reference="RF-1"))
    deliver_webhook(client, refund_event(purchase, 2000, refund_reference="RF-2"))

    assert stored_balance(business) == Decimal("250.00") == ledger_sum(business)


def test_a_late_success_after_a_partial_refund_credits_the_money_kept(
    client, business, paystack_settings
):
    # Regression: a refund before crediting marked the purchase refunded, so the payment's
    # charge.success was "already processed" and the 47 GHS kept bought nothing.
    purchase = PurchaseFactory(business=business)
    deliver_webhook(client, refund_event(purchase, 4700))

    deliver_webhook(client, charge_success_body(purchase.payment_reference, 9400))

    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert stored_balance(business) == Decimal("50.00") == ledger_sum(business)


def test_a_late_success_after_a_full_refund_credits_nothing(client, business, paystack_settings):
    purchase = PurchaseFactory(business=business)
    deliver_webhook(client, refund_event(purchase, "9400"))

    deliver_webhook(client, charge_success_body(purchase.payment_reference, 9400))

    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()


def test_refunds_without_a_reference_are_told_apart_by_their_data(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)
    first = refund_event(purchase, 2350, refund_reference=None, id=None, merchant_note="a")
    second = refund_event(purchase, 2350, refund_reference=None, id=None, merchant_note="b")

    deliver_webhook(client, first)
    deliver_webhook(client, second)
    deliver_webhook(client, second)

    assert PurchaseRefund.objects.count() == 2
    assert stored_balance(business) == Decimal("50.00")


@pytest.mark.parametrize(
    "event", ["refund.pending", "refund.processing", "refund.failed", "refund.needs-attention"]
)
def test_other_refund_events_are_recorded_and_change_nothing(
    client, business, paystack_settings, event
):
    purchase = credited_purchase(business)

    response = deliver_webhook(client, refund_event(purchase, "9400", event=event))

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00")
    delivery = WebhookEvent.objects.get()
    assert (delivery.event, delivery.outcome) == (event, "recorded")


def test_a_refund_in_another_currency_is_rejected(client, business, paystack_settings):
    purchase = credited_purchase(business)
    raw = refund_event(purchase, "9400")
    payload = json.loads(raw)
    payload["data"]["currency"] = "NGN"

    deliver_webhook(client, json.dumps(payload).encode())

    assert stored_balance(business) == Decimal("100.00")
    assert WebhookEvent.objects.get().outcome == "rejected"
