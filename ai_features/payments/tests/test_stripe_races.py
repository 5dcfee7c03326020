"""Verify and Stripe's checkout.session.* webhooks racing for one purchase, on PostgreSQL with
real threads (rule 7.3): exactly one credit, whoever arrives first."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from ai_features.models import CreditLedgerEntry, WebhookEvent
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, StripePurchaseFactory
from testing.races import run_in_threads, verify_and_webhooks_race
from testing.stripe_api import (
    charge_refunded_event,
    deliver_stripe,
    session_event,
    stripe_priced,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalogue"),
]

ROUNDS = 20


def test_verifies_and_webhooks_at_once_credit_a_stripe_purchase_exactly_once(stripe_api):
    def purchase_new(business):
        purchase = StripePurchaseFactory(business=business)
        stripe_api.retrieve(purchase, status="complete", payment_status="paid")
        return purchase

    def deliveries(purchase):
        # Stripe's duplicate deliveries of one event, and the async_payment_succeeded of the
        # same session, all at once.
        completed = json.dumps(session_event(purchase, payment_status="paid")).encode()
        succeeded = json.dumps(
            session_event(
                purchase, "checkout.session.async_payment_succeeded", payment_status="paid"
            )
        ).encode()
        return [
            lambda client, raw=raw: deliver_stripe(client, raw) for raw in (completed, succeeded)
        ]

    verify_and_webhooks_race(
        business=BusinessFactory(),
        rounds=ROUNDS,
        verifiers=8,
        webhooks=8,
        purchase_new=purchase_new,
        verify_query=lambda purchase: {"session_id": purchase.checkout_session_id},
        deliveries=deliveries,
    )

    assert WebhookEvent.objects.filter(gateway="stripe", outcome="credited").count() <= ROUNDS
    assert WebhookEvent.objects.filter(outcome="error").count() == 0


def test_refund_events_at_once_take_back_each_refunded_cent_once(stripe_settings):
    """Partial refunds reported as running totals (300, then 1000 cents of 1000), each
    delivered several times, all at once: the credits come back out exactly once."""
    business = BusinessFactory()
    stripe_priced("value", "10.00")

    for _ in range(ROUNDS // 2):
        purchase = StripePurchaseFactory(business=business)
        deliver_stripe(Client(), session_event(purchase, payment_status="paid"))
        purchase.refresh_from_db()
        raws = [
            json.dumps(charge_refunded_event(purchase, total)).encode() for total in (300, 1000)
        ]

        run_in_threads(8, lambda index, raws=raws: deliver_stripe(Client(), raws[index % 2]))

        purchase.refresh_from_db()
        assert purchase.payment_status == "refunded"
        assert purchase.refunded_credits == Decimal("100.00")
        refunds = CreditLedgerEntry.objects.filter(purchase=purchase, kind="refund")
        assert sum(e.amount for e in refunds) == Decimal("-100.00")
        assert stored_balance(business) == 0 == ledger_sum(business)
