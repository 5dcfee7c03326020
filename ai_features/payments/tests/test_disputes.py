"""Disputes (chargebacks) on both gateways, by signed webhook: an open takes the disputed share
back as a refund does, holds included; won gives it back, lost keeps it; repeats and a close
before its open change nothing more. shared/ has no recorded dispute payloads: these are built
from the facts in its READMEs (Paystack's Dispute, Stripe's section 9b)."""

import json
from decimal import Decimal

import pytest

from ai_features.credits.billing import credits_release, credits_reserve
from ai_features.credits.ledger import clawback_mismatches, ledger_mismatches
from ai_features.credits.money import to_minor_units
from ai_features.models import AIUsageAlert, BusinessAICredits, CreditLedgerEntry, PurchaseDispute
from testing.credits import ledger_sum, stored_balance
from testing.factories import StripePurchaseFactory
from testing.paystack_api import credited_purchase, deliver_webhook, refund_event
from testing.stripe_api import deliver_stripe, session_event, stripe_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]


def paystack_dispute(purchase, *, event="charge.dispute.create", dispute_id=77, **data) -> bytes:
    body = {
        "id": dispute_id,
        "refund_amount": to_minor_units(purchase.total_amount),
        "currency": "GHS",
        "status": "awaiting-merchant-feedback",
        "resolution": None,
        "transaction": {"id": 5_000_000 + purchase.pk, "reference": purchase.payment_reference},
        "category": "chargeback",
        "merchant_bears_loss": True,
        **data,
    }
    return json.dumps({"event": event, "data": body}).encode()


def paystack_resolved(purchase, resolution, **data) -> bytes:
    return paystack_dispute(
        purchase,
        event="charge.dispute.resolve",
        status="resolved",
        resolution=resolution,
        **data,
    )


def outcome(response) -> str:
    from ai_features.models import WebhookEvent

    assert response.status_code == 200, response.content
    return WebhookEvent.objects.order_by("-id").first().outcome


def books_balance(business) -> None:
    assert stored_balance(business) == ledger_sum(business)
    assert not ledger_mismatches() and not clawback_mismatches()


def test_an_open_paystack_dispute_takes_the_credits_back_and_tells_the_owner(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)  # value: 100 credits
    assert stored_balance(business) == 100

    assert outcome(deliver_webhook(client, paystack_dispute(purchase))) == "refunded"

    purchase.refresh_from_db()
    assert purchase.payment_status == "disputed"
    assert stored_balance(business) == 0
    entry = CreditLedgerEntry.objects.get(kind="dispute")
    assert (entry.amount, entry.purchase) == (Decimal("-100.00"), purchase)
    alert = AIUsageAlert.objects.get(alert_type="dispute_opened")
    assert alert.business == business
    books_balance(business)


def test_a_repeated_open_changes_nothing(client, business, paystack_settings):
    purchase = credited_purchase(business)
    deliver_webhook(client, paystack_dispute(purchase))

    assert outcome(deliver_webhook(client, paystack_dispute(purchase))) == "already_processed"

    assert CreditLedgerEntry.objects.filter(kind="dispute").count() == 1
    assert AIUsageAlert.objects.filter(alert_type="dispute_opened").count() == 1


def test_a_null_refund_amount_disputes_the_whole_payment(client, business, paystack_settings):
    purchase = credited_purchase(business)

    deliver_webhook(client, paystack_dispute(purchase, refund_amount=None))

    assert PurchaseDispute.objects.get().amount == purchase.total_amount
    assert stored_balance(business) == 0


def test_a_partial_dispute_takes_its_share(client, business, paystack_settings):
    purchase = credited_purchase(business)  # 94.00 GHS for 100 credits

    deliver_webhook(client, paystack_dispute(purchase, refund_amount=4700))

    assert stored_balance(business) == 50


def test_a_dispute_declined_gives_the_credits_back_without_restarting_the_clock(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)
    expires_at = BusinessAICredits.objects.get(business=business).expires_at
    deliver_webhook(client, paystack_dispute(purchase))

    assert outcome(deliver_webhook(client, paystack_resolved(purchase, "declined"))) == "recorded"

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    row = BusinessAICredits.objects.get(business=business, is_active=True)
    assert (row.balance, row.expires_at) == (100, expires_at)
    assert CreditLedgerEntry.objects.get(kind="dispute_return").amount == 100
    assert PurchaseDispute.objects.get().status == "won"
    books_balance(business)


def test_a_dispute_lost_keeps_the_credits_and_a_later_refund_takes_nothing_more(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)
    deliver_webhook(client, paystack_dispute(purchase))
    deliver_webhook(client, paystack_resolved(purchase, "merchant-accepted"))
    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded" and stored_balance(business) == 0
    from ai_features.credits.grants import credits_grant

    credits_grant(business=business, credits=20, package="support")  # other credits

    amount = str(to_minor_units(purchase.total_amount))
    assert outcome(deliver_webhook(client, refund_event(purchase, amount))) == "refunded"

    assert stored_balance(business) == 20
    assert not CreditLedgerEntry.objects.filter(kind="refund").exists()
    books_balance(business)


def test_a_close_before_its_open_is_recorded_and_the_open_changes_nothing(
    client, business, paystack_settings
):
    purchase = credited_purchase(business)

    assert outcome(deliver_webhook(client, paystack_resolved(purchase, "declined"))) == "recorded"
    assert outcome(deliver_webhook(client, paystack_dispute(purchase))) == "already_processed"

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and stored_balance(business) == 100
    assert PurchaseDispute.objects.get().status == "won"


def test_a_dispute_during_pending_holds_reserves_them(client, business, paystack_settings):
    purchase = credited_purchase(business)  # 100 credits
    for _ in range(40):  # all of it on hold
        credits_reserve(business=business, user=None, feature="product_description")
    pending = list(business.ai_transactions.filter(status="pending"))

    deliver_webhook(client, paystack_dispute(purchase))
    for hold in pending:
        credits_release(hold=hold, error_message="timeout")

    assert stored_balance(business) == 0
    claim = PurchaseDispute.objects.get().clawback
    assert (claim.taken, claim.reserved, claim.shortfall) == (100, 0, 0)
    books_balance(business)


def test_a_paystack_dispute_of_a_stripe_purchase_is_not_ours(client, business, paystack_settings):
    stripe_purchase = StripePurchaseFactory(business=business)

    assert outcome(deliver_webhook(client, paystack_dispute(stripe_purchase))) == (
        "unknown_reference"
    )


def test_a_resolution_we_do_not_know_is_rejected(client, business, paystack_settings):
    purchase = credited_purchase(business)

    assert outcome(deliver_webhook(client, paystack_resolved(purchase, "maybe"))) == "rejected"
    assert stored_balance(business) == 100


# --- refund.processed is Paystack's own, and names its currency ------------------------------


def test_a_paystack_refund_naming_a_stripe_purchase_claws_nothing_back(
    client, business, paystack_settings, stripe_settings
):
    purchase = StripePurchaseFactory(business=business)
    deliver_stripe(client, session_event(purchase))
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    before = stored_balance(business)

    raw = refund_event(purchase, str(to_minor_units(purchase.total_amount)))

    assert outcome(deliver_webhook(client, raw)) == "unknown_reference"
    assert stored_balance(business) == before


def test_a_paystack_refund_without_a_currency_is_rejected(client, business, paystack_settings):
    purchase = credited_purchase(business)
    payload = json.loads(refund_event(purchase, "9400"))
    del payload["data"]["currency"]

    assert outcome(deliver_webhook(client, json.dumps(payload).encode())) == "rejected"
    assert stored_balance(business) == 100


# --- Stripe -----------------------------------------------------------------------------------


def stripe_dispute(purchase, event_type="charge.dispute.created", status="needs_response", **extra):
    dispute = {
        "id": "dp_test_0001",
        "object": "dispute",
        "amount": to_minor_units(purchase.total_amount),
        "currency": purchase.currency.lower(),
        "charge": f"ch_test_{purchase.pk:06d}",
        "payment_intent": purchase.payment_intent_id,
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": 1_800_000_000},
        **extra,
    }
    return stripe_event(event_type, dispute)


@pytest.fixture
def stripe_credited(client, business, stripe_settings):
    purchase = StripePurchaseFactory(business=business)
    deliver_stripe(client, session_event(purchase))
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and purchase.payment_intent_id
    return purchase


@pytest.mark.parametrize(
    ("status", "won"), [("won", True), ("warning_closed", True), ("lost", False)]
)
def test_a_stripe_dispute_opens_and_closes(client, business, stripe_credited, status, won):
    credits = stripe_credited.total_credits

    assert outcome(deliver_stripe(client, stripe_dispute(stripe_credited))) == "refunded"
    stripe_credited.refresh_from_db()
    assert stripe_credited.payment_status == "disputed" and stored_balance(business) == 0

    closed = stripe_dispute(stripe_credited, "charge.dispute.closed", status=status)
    deliver_stripe(client, closed)

    stripe_credited.refresh_from_db()
    assert stripe_credited.payment_status == ("completed" if won else "refunded")
    assert stored_balance(business) == (credits if won else 0)
    books_balance(business)


def test_a_stripe_dispute_in_another_currency_is_rejected(client, business, stripe_credited):
    raw = stripe_dispute(stripe_credited, currency="ghs")

    assert outcome(deliver_stripe(client, raw)) == "rejected"
    assert stored_balance(business) == stripe_credited.total_credits
