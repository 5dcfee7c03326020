"""The spend path's one-statement debit (conditional UPDATE … RETURNING, design section 7 rule 1)
and one-statement settle of a hold that cost what it held: the same outcomes as lock-then-update,
and the long way still taken when they find nothing."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ai_features.errors import CreditsExpired, InsufficientCredits
from ai_features.models import AITransaction, AIUsageAlert, BusinessAICredits, CreditLedgerEntry
from ai_features.services import credits as credits_module
from ai_features.services.billing import (
    credits_charge,
    credits_release,
    credits_reserve,
    credits_settle,
)
from ai_features.services.credits import credits_add
from conftest import ledger_sum, make_business, run_in_threads, statement_text, stored_balance


@pytest.fixture
def funded(business):
    credits_add(business=business, amount="20", kind="grant")
    return business


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_charge_locks_and_debits_in_one_statement(funded, user):
    credits_charge(business=funded, user=user, feature="product_description")  # warm the price
    with CaptureQueriesContext(connection) as queries:
        usage = credits_charge(business=funded, user=user, feature="product_description")

    sql = [q["sql"] for q in queries.captured_queries]
    # Inside the test's transaction the atomic block is a savepoint: savepoint, one statement
    # (prepared by the first charge) that debits and inserts the usage and ledger rows,
    # release. No other statement.
    assert [s.split()[0] for s in sql] == ["SAVEPOINT", "EXECUTE", "RELEASE"]
    spend = statement_text(sql[1])
    assert spend.startswith("WITH") and "FOR UPDATE" not in spend
    assert "balance >=" in spend and spend.count("INSERT INTO") == 2
    row = BusinessAICredits.objects.get(business=funded)
    assert usage.balance_row_id == row.pk
    entry = CreditLedgerEntry.objects.get(usage=usage)
    assert entry.amount == Decimal("-2.50") and entry.balance_after == Decimal("15.00")
    assert stored_balance(funded) == Decimal("15.00") == ledger_sum(funded)


def _assert_returned_as_stored(usage):
    """Every field of the returned usage equals the stored one, and is of its type (a Decimal
    where the database gives a Decimal; a choices member counts as its string)."""
    stored = AITransaction.objects.get(pk=usage.pk)
    for field in AITransaction._meta.concrete_fields:
        returned, kept = getattr(usage, field.attname), getattr(stored, field.attname)
        assert returned == kept, field.attname
        assert kept is None or isinstance(returned, type(kept)), field.attname
    return stored


@pytest.mark.django_db
def test_a_charge_returns_the_usage_row_as_it_was_stored(funded, user, django_assert_num_queries):
    """The one-statement spend reads back only ids: the usage it returns is built from what it
    sent, and must be what the database holds, field by field."""
    usage = credits_charge(
        business=funded,
        user=user,
        feature="customer_insight",
        credits="3.25",
        tokens_used=41,
        cost_to_us=Decimal("0.000123"),
        processing_time_ms=812,
    )

    stored = _assert_returned_as_stored(usage)
    assert stored.credits_used == Decimal("3.25") and stored.tokens_used == 41
    assert stored.balance_row_id == BusinessAICredits.objects.get(business=funded).pk
    with django_assert_num_queries(0):  # the business and user are the caller's, at hand
        assert (usage.business, usage.user) == (funded, user)


@pytest.mark.django_db
def test_a_hold_returns_the_usage_row_as_it_was_stored(funded):
    hold = credits_reserve(business=funded, user=None, feature="product_description")

    stored = _assert_returned_as_stored(hold)
    assert (stored.status, stored.credits_held) == ("pending", Decimal("2.50"))
    assert stored.user_id is None


@pytest.fixture
def fresh_spend_statements():
    from ai_features.services import locks

    locks._spend_statement.cache_clear()
    yield
    locks._spend_statement.cache_clear()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_spend_statements")
def test_a_usage_field_whose_default_varies_is_refused(funded, monkeypatch):
    """The spend writes the model defaults into its statement once: a default computed per row
    would keep its first value for ever, so it is an error, found by the first spend."""
    monkeypatch.setattr(AITransaction._meta.get_field("model"), "default", lambda: "varies")

    with pytest.raises(TypeError, match="default that varies"):
        credits_charge(business=funded, user=None, feature="product_description")


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("field", ["timestamp", "balance_row_id", "id", "no_such_field"])
def test_the_spend_refuses_a_field_it_fills_or_does_not_know(funded, field):
    from django.db import transaction

    from ai_features.services.locks import lock_balance_debited_for

    now = timezone.now()
    with pytest.raises(TypeError, match="cannot take"), transaction.atomic():
        lock_balance_debited_for(
            business_id=funded.pk, amount=Decimal("1.00"), now=now, values={field: now}
        )
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_spend_statements")
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "as text"])
def test_defaults_written_into_the_spend_keep_a_percent_sign(
    funded, settings, monkeypatch, prepared
):
    """The defaults are SQL literals in the statement, which psycopg2 formats whether it is
    prepared or sent as text: a `%` in one must arrive as one `%`, not break the statement."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    model = AITransaction._meta.get_field("model")
    monkeypatch.setattr(model, "default", "50% off")
    monkeypatch.delitem(model.__dict__, "_get_default", raising=False)  # Django caches it

    usage = credits_charge(business=funded, user=None, feature="product_description")
    hold = credits_reserve(business=funded, user=None, feature="product_description")

    for made in (usage, hold):
        assert _assert_returned_as_stored(made).model == "50% off"
    assert stored_balance(funded) == Decimal("15.00") == ledger_sum(funded)


@pytest.mark.django_db
def test_a_spend_of_a_fraction_of_a_cent_is_refused(funded):
    """The debit and the ledger entry would round a third decimal place apart."""
    from ai_features.errors import InvalidAmount
    from ai_features.services.credits import usage_paid

    with pytest.raises(InvalidAmount):
        usage_paid(
            business=funded,
            user=None,
            amount=Decimal("2.505"),
            now=timezone.now(),
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


@pytest.mark.django_db
def test_when_the_statement_finds_nothing_the_long_way_decides(funded, user, monkeypatch):
    """A top-up committed between the UPDATE that missed and the lock: the charge goes through,
    locked and checked the long way, with the same ledger and alerts."""
    monkeypatch.setattr(credits_module, "lock_balance_debited_for", lambda **kwargs: None)

    usage = credits_charge(business=funded, user=user, feature="customer_insight", credits="10.50")

    assert usage.balance_row_id == BusinessAICredits.objects.get(business=funded).pk
    assert stored_balance(funded) == Decimal("9.50") == ledger_sum(funded)
    assert AIUsageAlert.objects.filter(alert_type="low_balance").count() == 1
    with pytest.raises(InsufficientCredits):
        credits_charge(business=funded, user=user, feature="customer_insight", credits="9.51")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("catalogue")
def test_racing_charges_never_overdraw_and_lose_no_update():
    business = make_business()
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs it
@pytest.mark.usefixtures("catalogue")
def test_a_hold_settled_at_its_price_is_one_statement(funded, user):
    provider = {"model": "gpt-x", "prompt_tokens": 19, "completion_tokens": 10}
    earlier = credits_reserve(business=funded, user=user, feature="product_description")
    credits_settle(hold=earlier, tokens_used=1, provider=provider)  # prepares the statement
    hold = credits_reserve(business=funded, user=user, feature="product_description")

    with CaptureQueriesContext(connection) as queries:
        usage = credits_settle(
            hold=hold, tokens_used=29, cost_to_us=Decimal("0.000009"), provider=provider
        )

    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 1 and sql[0].startswith("EXECUTE")
    settle = statement_text(sql[0])
    assert settle.startswith("UPDATE ai_transactions") and "FOR UPDATE" not in settle
    stored = AITransaction.objects.get(pk=hold.pk)
    for found in (usage, stored):
        assert (found.status, found.success, found.credits_used) == ("completed", True, 2.5)
        assert (found.tokens_used, found.prompt_tokens, found.model) == (29, 19, "gpt-x")
        assert found.cost_to_us == Decimal("0.000009") and found.settled_at is not None
    assert stored_balance(funded) == Decimal("15.00") == ledger_sum(funded)


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
    """The one-statement settle and a release take the same usage row lock: whichever comes
    second sees the first's outcome, so the hold is charged once or returned once."""
    business = make_business()
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
def test_a_failing_one_statement_settle_leaves_the_callers_transaction_usable(funded, user):
    """Regression: outside an atomic block of its own, a settle whose UPDATE failed broke the
    caller's transaction, so releasing the hold failed too and hid the first error."""
    from django.db import DataError, transaction

    from ai_features.services.billing import credits_hold

    with (
        transaction.atomic(),
        pytest.raises(DataError),
        credits_hold(business=funded, user=user, feature="product_description") as hold,
    ):
        hold.report(tokens_used=2**31)  # more than the column holds

    usage = AITransaction.objects.get()
    assert usage.status == "released"
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)
