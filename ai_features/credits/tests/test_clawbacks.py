"""A refund or dispute claims credits back, pending holds included (design section 7, rule 5):
taken at once, reserved out of what is on hold, or short; released holds pay the reserve."""

import random
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ai_features.credits.billing import credits_release, credits_reserve, credits_settle
from ai_features.credits.clawbacks import credits_claim, credits_claim_cancel
from ai_features.credits.credits import credits_add, credits_expire
from ai_features.credits.ledger import clawback_mismatches, ledger_mismatches
from ai_features.errors import InsufficientCredits
from ai_features.models import (
    AICreditPurchase,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
)
from ai_features.payments.refunds import purchase_refund_apply
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory
from testing.races import run_in_threads

pytestmark = pytest.mark.usefixtures("catalogue")


def bought(business, credits="30.00", paid="30.00") -> AICreditPurchase:
    """A credited purchase of `credits` for `paid` GHS (the starter pack by default)."""
    purchase = AICreditPurchase.objects.create_with_reference(
        business=business,
        package="starter",
        amount_paid=Decimal(paid),
        total_amount=Decimal(paid),
        credits_purchased=Decimal(credits),
        payment_method="mobile_money",
        payment_status="completed",
        completed_at=timezone.now(),
    )
    credits_add(business=business, amount=credits, kind="purchase", purchase=purchase)
    return purchase


def refund(purchase, pesewas: int, key: str = "RF-1"):
    data = {"id": key, "amount": pesewas, "currency": "GHS"}
    return purchase_refund_apply(purchase_id=purchase.pk, data=data)


def holds(business, count: int) -> list:
    return [
        credits_reserve(business=business, user=None, feature="product_description")
        for _ in range(count)
    ]


def row_of(business) -> BusinessAICredits:
    return BusinessAICredits.objects.get(business=business, is_active=True)


def claimed(claim) -> tuple:
    """The claim as stored now: (taken, reserved, shortfall)."""
    claim.refresh_from_db()
    return claim.taken, claim.reserved, claim.shortfall


def books_balance(business) -> None:
    assert stored_balance(business) == ledger_sum(business)
    assert not ledger_mismatches() and not clawback_mismatches()


@pytest.mark.django_db
def test_the_designs_worked_example(business):
    purchase = bought(business)
    call_a, call_b = holds(business, 2)
    assert (stored_balance(business), row_of(business).held) == (Decimal("25.00"), 5)

    claim = refund(purchase, 3000).clawback
    assert (claim.taken, claim.reserved, claim.shortfall) == (25, 5, 0)
    assert stored_balance(business) == 0

    credits_release(hold=call_a, error_message="provider down")
    assert claimed(claim) == (Decimal("27.50"), Decimal("2.50"), 0)
    assert stored_balance(business) == 0

    credits_settle(hold=call_b)
    assert claimed(claim) == (Decimal("27.50"), 0, Decimal("2.50"))
    assert stored_balance(business) == 0
    row = row_of(business)
    assert (row.held, row.clawback_reserved) == (0, 0)
    books_balance(business)


@pytest.mark.django_db
def test_a_refund_during_twelve_pending_holds_leaves_nothing_to_spend(business):
    """The issue's repro: 12 holds take the whole 30 credits, the refund finds a balance of 0,
    the calls fail and release; before the fix the 30 credits came back."""
    purchase = bought(business)
    pending = holds(business, 12)
    assert stored_balance(business) == 0

    claim = refund(purchase, 3000).clawback
    assert (claim.taken, claim.reserved, claim.shortfall) == (0, 30, 0)
    for hold in pending:
        credits_release(hold=hold, error_message="timeout")

    assert claimed(claim) == (30, 0, 0)
    assert stored_balance(business) == 0
    with pytest.raises(InsufficientCredits):
        credits_reserve(business=business, user=None, feature="product_description")
    entries = CreditLedgerEntry.objects.filter(usage=pending[0]).order_by("id")
    kinds = list(entries.values_list("kind", "amount"))
    assert kinds == [("usage", Decimal("-2.50")), ("usage_release", 2.5), ("refund", -2.5)]
    books_balance(business)


@pytest.mark.django_db
def test_a_partial_refund_reserves_only_its_share_and_the_rest_comes_back(business):
    purchase = bought(business)
    pending = holds(business, 12)

    claim = refund(purchase, 1000).clawback  # 10 of the 30 credits
    assert (claim.taken, claim.reserved) == (0, 10)
    for hold in pending:
        credits_release(hold=hold, error_message="timeout")

    assert claimed(claim) == (10, 0, 0)
    assert stored_balance(business) == 20
    books_balance(business)


@pytest.mark.django_db
def test_a_hold_settled_below_what_it_held_pays_the_reserve_with_the_difference(business):
    purchase = bought(business)
    (hold,) = holds(business, 1)
    credits_add(business=business, amount="0.01", kind="grant")  # not all of it is on hold
    claim = refund(purchase, 3000).clawback
    assert (claim.taken, claim.reserved) == (Decimal("27.51"), Decimal("2.49"))

    credits_settle(hold=hold, credits="1.00")  # 1.50 comes back: it pays the reserve

    assert claimed(claim) == (Decimal("29.01"), 0, Decimal("0.99"))
    assert stored_balance(business) == 0
    books_balance(business)


@pytest.mark.django_db
def test_two_claims_are_paid_oldest_first(business):
    first = bought(business)
    second = bought(business)
    pending = holds(business, 24)  # all 60 credits on hold
    older = refund(first, 1000, key="RF-old").clawback
    newer = refund(second, 1000, key="RF-new").clawback
    assert (older.reserved, newer.reserved) == (10, 10)

    for hold in pending[:5]:  # 12.50 comes back
        credits_release(hold=hold, error_message="timeout")

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.taken, older.reserved) == (10, 0)
    assert (newer.taken, newer.reserved) == (Decimal("2.50"), Decimal("7.50"))
    assert stored_balance(business) == 0
    books_balance(business)


@pytest.mark.django_db
def test_expiry_turns_an_open_reserve_into_shortfall(business, monkeypatch):
    purchase = bought(business)
    (hold,) = holds(business, 1)
    claim = refund(purchase, 3000).clawback
    assert claim.reserved == Decimal("2.50")
    expires_at = row_of(business).expires_at

    monkeypatch.setattr(timezone, "now", lambda: expires_at + timedelta(seconds=1))
    assert credits_expire(business=business)
    credits_release(hold=hold, error_message="timeout")

    assert claimed(claim) == (Decimal("27.50"), 0, Decimal("2.50"))
    assert stored_balance(business) == 0
    books_balance(business)


@pytest.mark.django_db
def test_a_cancelled_claim_drops_its_reserve_and_gives_back_what_it_took(business):
    purchase = bought(business)
    (hold,) = holds(business, 1)
    expires_at = row_of(business).expires_at
    claim = credits_claim(purchase=purchase, share=Decimal("30.00"), kind="dispute")

    assert credits_claim_cancel(claim=claim) == Decimal("27.50")
    assert credits_claim_cancel(claim=claim) == 0  # once

    claim.refresh_from_db()
    assert (claim.share, claim.reserved, claim.returned, claim.cancelled) == (
        Decimal("27.50"),
        0,
        Decimal("27.50"),
        True,
    )
    row = row_of(business)
    assert (row.balance, row.clawback_reserved, row.expires_at) == (Decimal("27.50"), 0, expires_at)
    credits_release(hold=hold, error_message="timeout")
    assert stored_balance(business) == 30
    books_balance(business)


@pytest.mark.django_db
def test_the_check_finds_a_claim_short_of_credits_that_were_only_on_hold(business):
    """The leak as the old code left it: a refund found the balance at 0 with everything on
    hold, took nothing and called all of it shortfall. The check must say so."""
    purchase = bought(business)
    holds(business, 12)
    CreditClawback.objects.create(
        purchase=purchase,
        balance_row=row_of(business),
        kind="refund",
        share=Decimal("30.00"),
        shortfall=Decimal("30.00"),
        shortfall_at_claim=Decimal("30.00"),
        held_at_claim=Decimal("30.00"),
        consumed_before=Decimal("0.00"),
    )

    problems = [why for _, why in clawback_mismatches()]

    assert problems == ["short of more than was spent before it"]


@pytest.mark.django_db
def test_the_check_finds_a_reserve_that_does_not_match_its_claims(business):
    bought(business)
    holds(business, 1)
    BusinessAICredits.objects.filter(business=business).update(clawback_reserved=Decimal("1.00"))

    assert [why for _, why in clawback_mismatches()] == ["reserve 1.00 is not its claims' reserves"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("refunded", [3000, 1000], ids=["full", "partial"])
def test_a_refund_racing_holds_that_settle_and_release_leaves_exactly_the_rest(refunded):
    """In every interleaving, what can still be spent is the purchase's credits less its share
    and less what was spent, never less than zero; the books and every claim add up."""
    for attempt in range(4):
        business = BusinessFactory()
        purchase = bought(business)
        pending = holds(business, 12)
        rng = random.Random(attempt)  # noqa: S311 (timing jitter, not a secret)
        delays = [rng.random() / 50 for _ in range(13)]

        def work(index, pending=pending, purchase=purchase, delays=delays, key=f"RF-{attempt}"):
            time.sleep(delays[index])
            if index == 12:
                refund(purchase, refunded, key=key)
            elif index % 2:
                credits_settle(hold=pending[index])
            else:
                credits_release(hold=pending[index], error_message="timeout")

        run_in_threads(13, work)

        share = Decimal(refunded) / 100
        spent = 6 * Decimal("2.50")
        assert stored_balance(business) == max(Decimal("30.00") - share - spent, Decimal("0.00"))
        claim = CreditClawback.objects.get(purchase=purchase)
        assert claim.reserved == 0 and claim.taken + claim.shortfall == share
        assert claim.shortfall <= spent
        row = row_of(business)
        assert (row.held, row.clawback_reserved) == (0, 0)
        books_balance(business)


@pytest.mark.django_db(transaction=True)
def test_a_refund_and_releases_at_once_never_deadlock():
    """Refund (purchase, then balance, then claims) and release (usage, then balance, then
    claims) take their locks in one order."""
    business = BusinessFactory()
    purchases = [bought(business) for _ in range(3)]
    pending = holds(business, 36)
    barrier = threading.Barrier(2)

    def work(index):
        barrier.wait()
        if index == 0:
            for number, purchase in enumerate(purchases):
                refund(purchase, 1000, key=f"RF-{number}")
        else:
            for hold in pending:
                credits_release(hold=hold, error_message="timeout")

    run_in_threads(2, work)

    assert stored_balance(business) == 60
    books_balance(business)
