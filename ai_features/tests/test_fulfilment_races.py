"""Verify and the webhook racing for one purchase, on PostgreSQL with real threads (rule 7.3)."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import RateLimitWindow
from ai_features.models import AICreditPurchase, CreditLedgerEntry, WebhookEvent
from testing.clients import token_client
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, PurchaseFactory
from testing.paystack_api import charge_success_body, deliver_webhook
from testing.races import run_in_threads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalogue"),
]

ROUNDS = 20
VERIFIERS = WEBHOOKS = 10


def test_ten_verifies_and_ten_webhooks_at_once_credit_the_purchase_exactly_once(paystack):
    business = BusinessFactory()
    owner = business.owner

    for round_number in range(1, ROUNDS + 1):
        # The verify rate limit counts per user; this race is not about it.
        RateLimitWindow.objects.all().delete()
        purchase = PurchaseFactory(business=business)
        paystack.verify(purchase.payment_reference)
        raw = charge_success_body(purchase.payment_reference, 9400)
        answers = []

        def race(index, purchase=purchase, raw=raw, answers=answers):
            if index < VERIFIERS:
                response = token_client(owner).get(
                    "/ai/api/credits/verify/", {"reference": purchase.payment_reference}
                )
            else:
                response = deliver_webhook(Client(), raw)
            answers.append(response.status_code)

        run_in_threads(VERIFIERS + WEBHOOKS, race)

        assert answers == [200] * (VERIFIERS + WEBHOOKS)
        assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
        assert AICreditPurchase.objects.get(pk=purchase.pk).payment_status == "completed"
        expected = Decimal(100 * round_number)
        assert stored_balance(business) == expected == ledger_sum(business)

    credited = WebhookEvent.objects.filter(outcome="credited").count()
    assert credited <= ROUNDS  # the rest were answered "already processed"
