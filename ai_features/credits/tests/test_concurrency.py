"""Real concurrency on PostgreSQL: threads, each with its own connection and transaction."""

import threading
from decimal import Decimal

import pytest

from ai_features.credits.billing import credits_charge
from ai_features.credits.credits import credits_add
from ai_features.errors import InsufficientCredits
from ai_features.models import AITransaction, AIUsageAlert, BusinessAICredits, CreditLedgerEntry
from testing.credits import deduct_credits, ledger_sum, stored_balance
from testing.factories import BusinessFactory
from testing.races import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16
OPS_PER_THREAD = 10


def assert_ledger_chain_is_unbroken(business, start=Decimal("0.00")):
    """Entries, in the order their locks were held, each start where the last one ended."""
    running = start
    for entry in CreditLedgerEntry.objects.filter(business=business).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running, "a lost or doubled update broke the chain"
        assert entry.balance_after >= 0
    return running


def test_grants_and_debits_racing_on_one_business_lose_no_update():
    business = BusinessFactory()
    credits_add(business=business, amount="20", kind="grant")
    outcomes = {"added": 0, "deducted": 0, "refused": 0}
    lock = threading.Lock()

    def work(index):
        for _ in range(OPS_PER_THREAD):
            if index % 2:
                credits_add(business=business, amount="1.00", kind="grant")
                result = "added"
            else:
                try:
                    deduct_credits(business, "2.00", kind="usage")
                    result = "deducted"
                except InsufficientCredits:
                    result = "refused"
            with lock:
                outcomes[result] += 1

    run_in_threads(THREADS, work)

    expected = Decimal("20") + outcomes["added"] * Decimal("1") - outcomes["deducted"] * 2
    assert outcomes["added"] == THREADS // 2 * OPS_PER_THREAD
    assert outcomes["deducted"] + outcomes["refused"] == THREADS // 2 * OPS_PER_THREAD
    assert outcomes["deducted"] > 0
    assert stored_balance(business) == expected == ledger_sum(business)
    assert assert_ledger_chain_is_unbroken(business) == expected
    assert CreditLedgerEntry.objects.filter(business=business).count() == 1 + (
        outcomes["added"] + outcomes["deducted"]
    )


def test_first_top_ups_racing_create_exactly_one_balance_row():
    business = BusinessFactory()

    run_in_threads(THREADS, lambda i: credits_add(business=business, amount="1", kind="grant"))

    assert BusinessAICredits.objects.filter(business=business).count() == 1
    assert stored_balance(business) == Decimal(THREADS) == ledger_sum(business)


def test_debits_racing_for_the_last_credits_never_overdraw():
    business = BusinessFactory()
    credits_add(business=business, amount="5", kind="grant")
    refused = []

    def spend(index):
        try:
            deduct_credits(business, "1", kind="usage")
        except InsufficientCredits:
            refused.append(index)

    run_in_threads(THREADS, spend)

    assert len(refused) == THREADS - 5
    assert stored_balance(business) == Decimal("0.00") == ledger_sum(business)
    assert_ledger_chain_is_unbroken(business)


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("attempt", range(10))
def test_fifty_charges_against_twenty_credits_succeed_exactly_twenty_times(attempt):
    business = BusinessFactory()
    credits_add(business=business, amount="20.00", kind="grant")
    outcomes = []

    def charge(index):
        try:
            credits_charge(
                business=business, user=None, feature="product_description", credits="1.00"
            )
            outcomes.append("charged")
        except InsufficientCredits:
            outcomes.append("refused")

    run_in_threads(50, charge)

    assert outcomes.count("charged") == 20 and outcomes.count("refused") == 30
    assert stored_balance(business) == Decimal("0.00") == ledger_sum(business)
    assert_ledger_chain_is_unbroken(business)
    assert AITransaction.objects.filter(business=business).count() == 20
    alerts = sorted(
        AIUsageAlert.objects.filter(business=business).values_list("alert_type", flat=True)
    )
    assert alerts == ["depleted", "low_balance"]
