"""A spend (a charge, or a hold) and the settle of a hold (design section 7, rule 1; section 9):
what they do to the balance, the usage row and the ledger, alone and racing each other."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ai_features.credits.billing import (
    credits_charge,
    credits_release,
    credits_reserve,
    credits_settle,
)
from ai_features.credits.credits import credits_add, credits_spend
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount
from ai_features.models import AITransaction, AIUsageAlert, BusinessAICredits, CreditLedgerEntry
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory
from testing.races import run_in_threads


@pytest.fixture
def funded(business):
    credits_add(business=business, amount="20", kind="grant")
    return business


@pytest.mark.django_db
def test_a_charge_debits_the_balance_and_writes_its_usage_and_ledger_rows(funded, user):
    usage = credits_charge(
        business=funded,
        user=user,
        feature="customer_insight",
        credits="3.25",
        tokens_used=41,
        cost_to_us=Decimal("0.000123"),
        processing_time_ms=812,
    )

    stored = AITransaction.objects.get(pk=usage.pk)
    assert (stored.status, stored.credits_used, stored.tokens_used) == ("completed", 3.25, 41)
    assert stored.cost_to_us == Decimal("0.000123") and stored.processing_time_ms == 812
    assert (stored.business, stored.user) == (funded, user)
    assert stored.balance_row_id == BusinessAICredits.objects.get(business=funded).pk
    entry = CreditLedgerEntry.objects.get(usage=usage)
    assert (entry.kind, entry.amount, entry.balance_after) == ("usage", Decimal("-3.25"), 16.75)
    assert stored_balance(funded) == Decimal("16.75") == ledger_sum(funded)


@pytest.mark.django_db
def test_a_hold_takes_its_price_and_stays_pending(funded):
    hold = credits_reserve(business=funded, user=None, feature="product_description")

    stored = AITransaction.objects.get(pk=hold.pk)
    assert (stored.status, stored.credits_held, stored.credits_used) == ("pending", 2.5, 0)
    assert stored.user_id is None
    assert stored_balance(funded) == Decimal("17.50") == ledger_sum(funded)


@pytest.mark.django_db
def test_a_spend_of_a_fraction_of_a_cent_is_refused(funded):
    """The debit and the ledger entry would round a third decimal place apart."""
    with pytest.raises(InvalidAmount):
        credits_spend(
            business=funded,
            user=None,
            amount=Decimal("2.505"),
            now=timezone.now(),
            held=False,
            values={"feature": "customer_insight", "credits_used": Decimal("2.505")},
        )
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)
    assert not AITransaction.objects.exists()


@pytest.mark.django_db
def test_a_short_balance_is_refused_and_changes_nothing(funded, user):
    with pytest.raises(InsufficientCredits):
        credits_charge(business=funded, user=user, feature="customer_insight", credits="20.01")

    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)
    assert not AITransaction.objects.exists()


@pytest.mark.django_db
def test_a_charge_of_the_whole_balance_depletes_it(
    funded, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        credits_charge(business=funded, user=user, feature="product_description", credits="20")

    assert stored_balance(funded) == 0 == ledger_sum(funded)
    kinds = list(AIUsageAlert.objects.order_by("id").values_list("alert_type", flat=True))
    assert kinds == ["low_balance", "depleted"]
    assert BusinessAICredits.objects.get(business=funded).low_balance_alerted


@pytest.mark.django_db
def test_the_low_balance_flag_is_stored_by_the_crossing_debit_only(funded, user):
    credits_charge(business=funded, user=user, feature="customer_insight", credits="10.50")
    credits_charge(business=funded, user=user, feature="customer_insight", credits="1.00")

    assert BusinessAICredits.objects.get(business=funded).low_balance_alerted
    assert AIUsageAlert.objects.filter(alert_type="low_balance").count() == 1


@pytest.mark.django_db
def test_an_expired_balance_is_refused_and_forfeited(funded, user, monkeypatch):
    row = BusinessAICredits.objects.get(business=funded)
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at + timedelta(microseconds=1))

    with pytest.raises(CreditsExpired):
        credits_reserve(business=funded, user=user, feature="product_description")

    row.refresh_from_db()
    assert not row.is_active and row.balance == 0 and ledger_sum(funded) == 0


@pytest.mark.django_db
def test_a_released_hold_goes_back_to_the_row_it_came_from(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="product_description")
    row = BusinessAICredits.objects.get(business=funded)
    assert hold.balance_row_id == row.pk and row.balance == Decimal("17.50")

    credits_release(hold=hold, error_message="timeout")

    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalogue")
def test_racing_charges_never_overdraw_and_lose_no_update():
    business = BusinessFactory()
    credits_add(business=business, amount="25", kind="grant")  # room for exactly 10 charges
    outcomes = {"charged": 0, "refused": 0}
    lock = threading.Lock()

    def work(index):
        for _ in range(4):
            try:
                credits_charge(business=business, user=None, feature="product_description")
                result = "charged"
            except InsufficientCredits:
                result = "refused"
            with lock:
                outcomes[result] += 1

    run_in_threads(8, work)

    assert outcomes == {"charged": 10, "refused": 22}
    assert stored_balance(business) == 0 == ledger_sum(business)
    running = Decimal("0")
    for entry in CreditLedgerEntry.objects.filter(business=business).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running >= 0
    assert AIUsageAlert.objects.filter(business=business, alert_type="low_balance").count() == 1
    assert AIUsageAlert.objects.filter(business=business, alert_type="depleted").count() == 1


@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs it
@pytest.mark.usefixtures("catalogue")
def test_a_hold_settled_at_its_price_records_the_outcome_and_moves_nothing(funded, user):
    provider = {"model": "gpt-x", "prompt_tokens": 19, "completion_tokens": 10}
    hold = credits_reserve(business=funded, user=user, feature="product_description")

    usage = credits_settle(
        hold=hold, tokens_used=29, cost_to_us=Decimal("0.000009"), provider=provider
    )

    stored = AITransaction.objects.get(pk=hold.pk)
    for found in (usage, stored):
        assert (found.status, found.success, found.credits_used) == ("completed", True, 2.5)
        assert (found.tokens_used, found.prompt_tokens, found.model) == (29, 19, "gpt-x")
        assert found.cost_to_us == Decimal("0.000009") and found.settled_at is not None
    assert list(CreditLedgerEntry.objects.filter(usage=hold).values_list("kind", flat=True)) == [
        "usage"
    ]
    assert stored_balance(funded) == Decimal("17.50") == ledger_sum(funded)


@pytest.mark.django_db
def test_a_hold_settled_at_another_price_is_settled_the_long_way(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")

    usage = credits_settle(hold=hold, credits="3.25")

    assert usage.credits_used == Decimal("3.25")
    assert stored_balance(funded) == Decimal("16.75") == ledger_sum(funded)


@pytest.mark.django_db
def test_settling_twice_charges_once(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="product_description")
    first = credits_settle(hold=hold, tokens_used=5)

    again = credits_settle(hold=hold, tokens_used=99)

    assert again.pk == first.pk and again.tokens_used == 5
    assert stored_balance(funded) == Decimal("17.50") == ledger_sum(funded)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalogue")
def test_a_settle_racing_the_cron_release_ends_one_way_only():
    """The settle and a release take the same usage row lock: whichever comes second sees the
    first's outcome, so the hold is charged once or returned once."""
    business = BusinessFactory()
    credits_add(business=business, amount="25", kind="grant")
    outcomes = []
    for _ in range(10):
        hold = credits_reserve(business=business, user=None, feature="product_description")

        def race(index, hold=hold):
            if index == 0:
                credits_settle(hold=hold, tokens_used=1)
            else:
                credits_release(hold=hold, error_message="stale")

        run_in_threads(2, race)
        outcomes.append(AITransaction.objects.get(pk=hold.pk).status)

    charged = outcomes.count("completed")
    assert set(outcomes) <= {"completed", "released"}
    # A release that lost to the settle changes nothing; a settle that came after a release
    # charges afresh (design 9): either way the books balance and nothing is charged twice.
    assert stored_balance(business) == Decimal("25") - charged * Decimal("2.50")
    assert stored_balance(business) == ledger_sum(business)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_failing_settle_leaves_the_callers_transaction_usable(funded, user):
    """Regression: outside an atomic block of its own, a settle whose UPDATE failed broke the
    caller's transaction, so releasing the hold failed too and hid the first error."""
    from django.db import DataError, transaction

    from ai_features.credits.billing import credits_hold

    with (
        transaction.atomic(),
        pytest.raises(DataError),
        credits_hold(business=funded, user=user, feature="product_description") as hold,
    ):
        hold.report(tokens_used=2**31)  # more than the column holds

    usage = AITransaction.objects.get()
    assert usage.status == "released"
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)
