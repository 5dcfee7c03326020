"""The billing core: adding, deducting, granting, and the ledger that mirrors the balance."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from ai_features.credits.credits import (
    balance_get,
    credits_add,
    credits_expire,
    credits_expiry_for,
)
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount
from ai_features.models import BusinessAICredits, CreditLedgerEntry
from testing.credits import deduct_credits, ledger_sum, stored_balance

pytestmark = pytest.mark.django_db
ACCRA = ZoneInfo("Africa/Accra")


def test_a_top_up_on_7_nov_2025_expires_on_6_may_2026(business):
    topped_up = datetime(2025, 11, 7, 10, 30, tzinfo=ACCRA)

    credits_add(business=business, amount="50", kind="grant", now=topped_up)

    row = BusinessAICredits.objects.get(business=business)
    assert row.expires_at == datetime(2026, 5, 6, 10, 30, tzinfo=ACCRA)
    assert row.purchased_at == topped_up and row.is_active


def test_adding_creates_the_balance_row_and_a_ledger_entry(business):
    entry = credits_add(business=business, amount=Decimal("12.50"), kind="grant")

    assert stored_balance(business) == Decimal("12.50")
    assert (entry.kind, entry.amount, entry.balance_after) == (
        "grant",
        Decimal("12.50"),
        Decimal("12.50"),
    )


FIRST = datetime(2025, 1, 1, tzinfo=ACCRA)
LATER = datetime(2025, 3, 1, tzinfo=ACCRA)


def topped_up_twice(business, second_kind: str) -> BusinessAICredits:
    """10 credits granted on FIRST, then 5 more (of `second_kind`) on LATER: the active row."""
    credits_add(business=business, amount="10", kind="grant", now=FIRST)

    credits_add(business=business, amount="5", kind=second_kind, now=LATER)

    return BusinessAICredits.objects.get(business=business, is_active=True)


def test_another_top_up_adds_and_restarts_the_expiry_clock(business):
    row = topped_up_twice(business, "grant")

    assert row.balance == Decimal("15.00")
    assert row.expires_at == datetime(2025, 8, 28, tzinfo=ACCRA)


def test_purchased_at_stays_when_the_credits_were_first_created(business):
    """Regression: every top-up overwrote purchased_at; the seed means the first one."""
    row = topped_up_twice(business, "purchase")

    assert row.purchased_at == FIRST
    assert row.last_topped_up_at == LATER
    assert row.expires_at == LATER + timedelta(days=180)


def test_deducting_takes_credits_out_and_writes_a_negative_entry(business):
    credits_add(business=business, amount="10", kind="grant")

    entry = deduct_credits(business, "2.50", kind="usage")

    assert stored_balance(business) == Decimal("7.50")
    assert (entry.amount, entry.balance_after) == (Decimal("-2.50"), Decimal("7.50"))
    assert ledger_sum(business) == Decimal("7.50")


def test_deducting_more_than_the_balance_is_refused_and_changes_nothing(business):
    credits_add(business=business, amount="2", kind="grant")

    with pytest.raises(InsufficientCredits):
        deduct_credits(business, "2.01", kind="usage")

    assert stored_balance(business) == Decimal("2.00")
    assert CreditLedgerEntry.objects.filter(business=business).count() == 1


def test_deducting_from_a_business_that_never_had_credits_is_refused(business):
    with pytest.raises(InsufficientCredits):
        deduct_credits(business, "1", kind="usage")

    assert not BusinessAICredits.objects.exists()


def test_deducting_from_an_expired_balance_is_refused(business):
    credits_add(
        business=business, amount="10", kind="grant", now=datetime(2020, 1, 1, tzinfo=ACCRA)
    )

    with pytest.raises(CreditsExpired):
        deduct_credits(business, "1", kind="usage")

    assert stored_balance(business) == Decimal("10.00")


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "NaN", "Infinity", "abc", None])
def test_amounts_that_are_not_positive_cents_are_refused(business, amount):
    with pytest.raises(InvalidAmount):
        credits_add(business=business, amount=amount, kind="grant")

    assert not CreditLedgerEntry.objects.exists()


def test_a_top_up_after_expiry_forfeits_the_old_credits_and_starts_fresh(business):
    credits_add(
        business=business, amount="10", kind="grant", now=datetime(2024, 1, 1, tzinfo=ACCRA)
    )
    now = timezone.now()

    credits_add(business=business, amount="30", kind="purchase", now=now)

    rows = BusinessAICredits.objects.filter(business=business).order_by("id")
    assert [(r.balance, r.is_active) for r in rows] == [
        (Decimal("0.00"), False),
        (Decimal("30.00"), True),
    ]
    assert rows[1].expires_at > now
    assert rows[0].purchased_at == datetime(2024, 1, 1, tzinfo=ACCRA)
    assert rows[1].purchased_at == rows[1].last_topped_up_at == now  # a fresh balance
    kinds = list(
        CreditLedgerEntry.objects.filter(business=business)
        .order_by("id")
        .values_list("kind", "amount")
    )
    assert kinds == [
        ("grant", Decimal("10.00")),
        ("expiry", Decimal("-10.00")),
        ("purchase", Decimal("30.00")),
    ]
    assert ledger_sum(business) == stored_balance(business) == Decimal("30.00")


def test_the_balance_of_a_business_with_no_credits_is_zero_and_inactive(business):
    assert balance_get(business=business) == {
        "balance": Decimal("0.00"),
        "expires_at": None,
        "is_active": False,
    }


def expired_on(business, topped_up: datetime) -> datetime:
    """Top up at `topped_up` and apply its expiry; the date the credits expired."""
    credits_add(business=business, amount="10", kind="grant", now=topped_up)
    assert credits_expire(business=business)
    return credits_expiry_for(topped_up)


def test_after_expiry_the_balance_keeps_the_date_the_credits_expired(business):
    """Issue 19 item 9: the expired row is inactive, and the answer lost its date (null)."""
    expired = expired_on(business, datetime(2020, 1, 1, tzinfo=ACCRA))

    assert balance_get(business=business) == {
        "balance": Decimal("0.00"),
        "expires_at": expired,
        "is_active": False,
    }


def test_after_several_expiries_the_balance_shows_the_last_one(business):
    expired_on(business, datetime(2020, 1, 1, tzinfo=ACCRA))
    last = expired_on(business, datetime(2021, 1, 1, tzinfo=ACCRA))

    assert balance_get(business=business)["expires_at"] == last


def test_an_active_balance_is_shown_over_expired_ones_in_one_query(
    business, django_assert_num_queries
):
    expired_on(business, datetime(2020, 1, 1, tzinfo=ACCRA))
    credits_add(business=business, amount="7", kind="grant")
    row = BusinessAICredits.objects.get(business=business, is_active=True)

    with django_assert_num_queries(1):
        shown = balance_get(business=business)

    assert shown == {"balance": Decimal("7.00"), "expires_at": row.expires_at, "is_active": True}


def test_a_balance_past_its_expiry_shows_as_zero_and_inactive_before_it_is_applied(business):
    credits_add(
        business=business, amount="10", kind="grant", now=datetime(2020, 1, 1, tzinfo=ACCRA)
    )

    shown = balance_get(business=business)

    assert shown["balance"] == 0 and shown["is_active"] is False
    assert shown["expires_at"] == datetime(2020, 6, 29, tzinfo=ACCRA)
    assert stored_balance(business) == Decimal(
        "10.00"
    )  # forfeited by the cron, with a ledger entry
