"""Verify and Stripe's checkout.session.* webhooks racing for one purchase, on PostgreSQL with
real threads (rule 7.3): exactly one credit, whoever arrives first."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import RateLimitWindow
from ai_features.models import AICreditPurchase, CreditLedgerEntry, WebhookEvent
from testing.clients import token_client
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, StripePurchaseFactory
from testing.races import run_in_threads
from testing.stripe_api import charge_refunded_event, deliver_stripe, session_event, stripe_priced

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalogue"),
]

ROUNDS = 20
VERIFIERS = WEBHOOKS = 8


def test_verifies_and_webhooks_at_once_credit_a_stripe_purchase_exactly_once(stripe_api):
    business = BusinessFactory()
    owner = business.owner

    for round_number in range(1, ROUNDS + 1):
        # The verify rate limit counts per user; this race is not about it.
        RateLimitWindow.objects.all().delete()
        purchase = StripePurchaseFactory(business=business)
        stripe_api.retrieve(purchase, status="complete", payment_status="paid")
        # Stripe's duplicate deliveries of one event, and the async_payment_succeeded of the
        # same session, all at once.
        completed = json.dumps(session_event(purchase, payment_status="paid")).encode()
        succeeded = json.dumps(
            session_event(
                purchase, "checkout.session.async_payment_succeeded", payment_status="paid"
            )
        ).encode()
        answers = []

        def race(index, purchase=purchase, answers=answers, raws=(completed, succeeded)):
            if index < VERIFIERS:
                response = token_client(owner).get(
                    "/ai/api/credits/verify/", {"session_id": purchase.checkout_session_id}
                )
            else:
                response = deliver_stripe(Client(), raws[index % 2])
            answers.append(response.status_code)

        run_in_threads(VERIFIERS + WEBHOOKS, race)

        assert answers == [200] * (VERIFIERS + WEBHOOKS)
        assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
        assert AICreditPurchase.objects.get(pk=purchase.pk).payment_status == "completed"
        expected = Decimal(100 * round_number)
        assert stored_balance(business) == expected == ledger_sum(business)

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
