"""Verify and the webhook racing for one purchase, on PostgreSQL with real threads (rule 7.3)."""

import pytest

from ai_features.models import WebhookEvent
from testing.factories import BusinessFactory, PurchaseFactory
from testing.paystack_api import charge_success_body, deliver_webhook
from testing.races import verify_and_webhooks_race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalogue"),
]

ROUNDS = 20


def test_ten_verifies_and_ten_webhooks_at_once_credit_the_purchase_exactly_once(paystack):
    def purchase_new(business):
        purchase = PurchaseFactory(business=business)
        paystack.verify(purchase.payment_reference)
        return purchase

    def deliveries(purchase):
        raw = charge_success_body(purchase.payment_reference, 9400)
        return [lambda client: deliver_webhook(client, raw)]

    verify_and_webhooks_race(
        business=BusinessFactory(),
        rounds=ROUNDS,
        verifiers=10,
        webhooks=10,
        purchase_new=purchase_new,
        verify_query=lambda purchase: {"reference": purchase.payment_reference},
        deliveries=deliveries,
    )

    credited = WebhookEvent.objects.filter(outcome="credited").count()
    assert credited <= ROUNDS  # the rest were answered "already processed"
