"""Feature calls racing on PostgreSQL: threads, each with its own connection, through the API."""

from decimal import Decimal

import pytest

from ai_features.models import AITransaction, CreditLedgerEntry
from testing.clients import token_client as client_of
from testing.credits import grant_credits, ledger_sum, stored_balance
from testing.factories import BusinessFactory
from testing.races import results_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def describe(business, body, **headers):
    """The owner of `business` asks for a product description."""
    return client_of(business.owner).post(
        "/ai/api/features/product-description/", body, format="json", **headers
    )


def test_20_concurrent_descriptions_against_30_credits_let_exactly_12_through(catalogue, llm):
    business = BusinessFactory()
    grant_credits(business, 30)

    def call(index):
        return describe(business, {"product_name": f"Item {index}"}).status_code

    statuses = results_in_threads(20, call)

    assert sorted(statuses) == [200] * 12 + [402] * 8
    assert len(llm.requests) == 12  # a refused call never reached the provider
    assert stored_balance(business) == Decimal("0.00") == ledger_sum(business)
    completed = AITransaction.objects.filter(business=business, status="completed")
    assert completed.count() == 12
    assert not AITransaction.objects.filter(status="pending").exists()
    running = Decimal("0")
    for entry in CreditLedgerEntry.objects.filter(business=business).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running >= 0  # no lost update, never an overdraft


def test_one_idempotency_key_raced_by_10_threads_calls_the_provider_once(catalogue, llm):
    business = BusinessFactory()
    grant_credits(business, 30)

    def call(index):
        return describe(
            business, {"product_name": "Same"}, HTTP_IDEMPOTENCY_KEY="one-click"
        ).status_code

    answers = results_in_threads(10, call)

    # The first claims the key; the rest see it in progress (409) or replay the answer (200).
    assert answers.count(200) >= 1 and set(answers) <= {200, 409}
    assert len(llm.requests) == 1
    assert stored_balance(business) == Decimal("27.50") == ledger_sum(business)
