from decimal import Decimal

import pytest
import requests
from django.core.management import CommandError

from ai_features.credits.grants import credits_grant
from ai_features.management.tests.helpers import aged, command_output
from ai_features.models import BusinessAICredits, CreditLedgerEntry
from testing.credits import stored_balance
from testing.factories import BusinessFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return command_output("reconcile_ai_payments", *args)


def test_a_stuck_purchase_paystack_says_is_paid_is_credited_once(business, paystack):
    purchase = aged(PurchaseFactory(business=business), minutes=45)
    paystack.verify(purchase.payment_reference)

    out = run()
    again = run()

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00")
    assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
    assert purchase.payment_reference in out and "credited" in out
    assert "Checked 0 unsettled" in again


def test_recent_purchases_are_left_alone(business, paystack):
    PurchaseFactory(business=business)

    out = run()

    assert "Checked 0 unsettled" in out
    assert not paystack.mock.calls


def test_older_than_sets_the_age(business, paystack):
    purchase = aged(PurchaseFactory(business=business), minutes=10)
    paystack.verify(purchase.payment_reference, status="ongoing")

    run("--older-than", "5")

    assert len(paystack.calls_to("/transaction/verify")) == 1


@pytest.mark.parametrize(
    ("hours", "status", "reason"),
    [
        pytest.param(25, "failed", "abandoned", id="after-24-hours-is-failed"),
        pytest.param(2, "pending", "", id="for-less-than-24-hours-stays-pending"),
    ],
)
def test_one_unpaid(business, paystack, hours, status, reason):
    purchase = aged(PurchaseFactory(business=business), hours=hours)
    paystack.verify(purchase.payment_reference, status="abandoned")

    run()

    purchase.refresh_from_db()
    assert purchase.payment_status == status
    assert reason in purchase.failure_reason
    assert stored_balance(business) == 0


def test_one_paystack_never_saw_is_failed_after_24_hours(business, paystack):
    purchase = aged(PurchaseFactory(business=business), hours=30)
    paystack.mock.get(
        f"{paystack.base}/transaction/verify/{purchase.payment_reference}",
        status=404,
        json={"status": False, "message": "Transaction not found"},
    )

    run()

    purchase.refresh_from_db()
    assert purchase.payment_status == "failed"


def test_an_outage_skips_the_purchase_and_keeps_it_pending(business, paystack):
    broken = aged(PurchaseFactory(business=business), hours=30)
    fine = aged(PurchaseFactory(business=business), hours=1)
    paystack.mock.get(
        f"{paystack.base}/transaction/verify/{broken.payment_reference}",
        body=requests.exceptions.ConnectionError(),
    )
    paystack.verify(fine.payment_reference)

    out = run()

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.payment_status == "pending" and "error: payment_gateway_unreachable" in out
    assert fine.payment_status == "completed"


def test_check_ledger_passes_when_every_balance_matches(business):
    credits_grant(business=business, credits=10, package="test")

    assert "Ledger OK" in run("--check-ledger")


def test_check_ledger_exits_1_naming_a_tampered_business(business):
    credits_grant(business=business, credits=10, package="test")
    honest = BusinessFactory(name="Honest Shop")
    credits_grant(business=honest, credits=5, package="test")
    BusinessAICredits.objects.filter(business=business).update(balance=Decimal("99.00"))

    with pytest.raises(CommandError) as caught:
        run("--check-ledger")

    assert caught.value.returncode == 1
    assert business.name in str(caught.value) and "Honest Shop" not in str(caught.value)


def test_the_full_check_sees_a_ledger_without_a_balance_row(business):
    credits_grant(business=business, credits=10, package="test")
    BusinessAICredits.objects.filter(business=business).delete()

    with pytest.raises(CommandError):
        run("--check-ledger", "--full")


def test_the_nightly_check_reads_the_latest_entry_and_the_full_check_the_sum(business):
    from ai_features.models import CreditLedgerEntry

    credits_grant(business=business, credits=10, package="test")
    credits_grant(business=business, credits=5, package="test")
    first = CreditLedgerEntry.objects.order_by("id").first()
    CreditLedgerEntry.objects.filter(pk=first.pk).update(amount=Decimal("11.00"))  # mid-chain

    assert "Ledger OK" in run("--check-ledger")  # the latest entry still says 15.00
    with pytest.raises(CommandError, match="Ledger mismatch"):
        run("--check-ledger", "--full")


def test_the_nightly_check_sees_a_balance_with_no_entry(business):
    BusinessAICredits.objects.create(business=business, balance=Decimal("3.00"))

    with pytest.raises(CommandError, match=business.name):
        run("--check-ledger")


def test_full_goes_with_check_ledger():
    with pytest.raises(CommandError, match="goes with"):
        run("--full")


def test_a_recently_declined_purchase_is_asked_about_again_and_credited(business, paystack):
    # Regression: reconciliation only looked at pending purchases, so a payment retried in the
    # same checkout after a decline, whose webhook was lost, was never credited.
    purchase = aged(
        PurchaseFactory(business=business, status="failed", gateway_status="failed"), hours=2
    )
    paystack.verify(purchase.payment_reference)

    run()

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00")


def test_declined_purchases_are_left_alone_after_48_hours(business, paystack):
    aged(PurchaseFactory(business=business, status="failed", gateway_status="failed"), hours=49)
    aged(PurchaseFactory(business=business, status="failed", gateway_status="abandoned"), hours=2)

    out = run()

    assert "Checked 0 unsettled" in out and not paystack.mock.calls
