"""The daily usage rollup: built for closed days by the nightly job, and the usage answers it
gives equal to what the raw rows alone say, for any period, one that starts or ends mid-day
included."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from ai_features.credits.billing import credits_release, credits_reserve, credits_settle
from ai_features.credits.credits import credits_add
from ai_features.credits.rollup import day_start, rolled_through, usage_rollup_build
from ai_features.credits.usage import usage_daily, usage_summary
from ai_features.models import AITransaction, UsageDaily, UsageRollupState
from testing.factories import BusinessFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalogue")]
TODAY = timezone.localdate()
FEATURES = ["product_description", "customer_insight"]


def generated(business, users, *, days=40, seed=7) -> None:
    """Calls over the last `days` days at random times: completed, released (failed) and, on
    the last two days, a few still pending; by several users (one of them later deleted),
    features and models."""
    rng = random.Random(seed)  # noqa: S311 (test data, not a secret)
    rows = []
    for _ in range(600):
        moment = day_start(TODAY - timedelta(days=rng.randrange(days))) + timedelta(
            seconds=rng.randrange(86_400)
        )
        if moment > timezone.now():
            moment = timezone.now() - timedelta(seconds=rng.randrange(3600))
        status = rng.choice(["completed"] * 6 + ["released"])
        if moment.date() >= TODAY - timedelta(days=1) and rng.random() < 0.05:
            status = "pending"
        ok = status == "completed"
        rows.append(
            AITransaction(
                business=business,
                user=rng.choice(users),
                feature=rng.choice(FEATURES),
                model=rng.choice(["gpt-4o-mini", "llama3.2"]),
                status=status,
                success=status != "released",
                credits_used=Decimal(rng.choice(["2.50", "2.00", "1.75"])) if ok else 0,
                credits_held=Decimal("2.50") if status == "pending" else 0,
                tokens_used=rng.randrange(0, 900),
                cost_to_us=Decimal(rng.randrange(0, 9000)) / 1_000_000,
            )
        )
        rows[-1].stamp = moment
    made = AITransaction.objects.bulk_create(rows)
    for row in made:
        row.timestamp = row.stamp
    AITransaction.objects.bulk_update(made, ["timestamp"])


def raw_summary(business, start, end, by) -> dict:
    """What the raw rows alone say: the reference the rollup must match."""
    period = Q(business=business)
    if start is not None:
        period &= Q(timestamp__gte=start)
    if end is not None:
        period &= Q(timestamp__lt=end)
    group = "feature" if by == "feature" else "user_id"
    rows = (
        AITransaction.objects.filter(period)
        .values(group)
        .annotate(
            requests=Count("id"),
            successes=Count("id", filter=Q(success=True, status="completed")),
            credits_used=Sum("credits_used"),
            tokens_used=Sum("tokens_used"),
        )
        .order_by()
    )
    return {
        row[group]: (row["requests"], row["successes"], row["credits_used"], row["tokens_used"])
        for row in rows
    }


def summary_by_key(answer: dict, by: str) -> dict:
    rows = answer["features"] if by == "feature" else answer["users"]
    key = (lambda r: r["feature"]) if by == "feature" else (lambda r: r["user"] and r["user"]["id"])
    return {
        key(row): (row["requests"], row["successes"], row["credits_used"], row["tokens_used"])
        for row in rows
    }


@pytest.fixture
def history(business):
    users = [business.owner, UserFactory(), UserFactory(), UserFactory()]
    generated(business, users)
    users[-1].delete()  # their calls stay, without a user
    usage_rollup_build()
    return business


def test_the_job_rolls_up_closed_days_and_stops_before_a_pending_hold(history):
    first_pending = AITransaction.objects.filter(status="pending").order_by("timestamp").first()
    through = rolled_through(business_id=history.pk)

    expected = TODAY - timedelta(days=1)
    if first_pending is not None:
        expected = min(expected, timezone.localdate(first_pending.timestamp) - timedelta(days=1))
    assert through == expected
    assert UsageDaily.objects.filter(business=history, day__gt=through).count() == 0
    assert UsageDaily.objects.filter(business=history).exists()


def periods():
    """Whole days, open ends, and bounds in the middle of days, rolled up or not."""
    rng = random.Random(11)  # noqa: S311 (test data, not a secret)
    noon = lambda days: day_start(TODAY - timedelta(days=days)) + timedelta(hours=12, minutes=7)  # noqa: E731
    found = [(None, None), (TODAY - timedelta(days=10), None), (None, TODAY - timedelta(days=3))]
    found += [(noon(20), noon(5)), (noon(30), None), (None, noon(2)), (noon(1), noon(0))]
    for _ in range(12):
        a, b = sorted(rng.sample(range(0, 45), 2), reverse=True)
        start = noon(a) + timedelta(minutes=rng.randrange(-700, 700))
        end = noon(b) + timedelta(minutes=rng.randrange(-700, 700))
        found.append((start, end) if start < end else (end, start))
    return found


def bounds(start, end):
    """The period as the raw reference reads it (a date means its whole day)."""
    if isinstance(start, date) and not isinstance(start, datetime):
        start = day_start(start)
    if isinstance(end, date) and not isinstance(end, datetime):
        end = day_start(end + timedelta(days=1))
    return start, end


@pytest.mark.parametrize("by", ["feature", "user"])
def test_the_summary_equals_the_raw_rows_for_any_period(history, by):
    for start, end in periods():
        answer = usage_summary(business=history, start=start, end=end, by=by)
        assert summary_by_key(answer, by) == raw_summary(history, *bounds(start, end), by), (
            start,
            end,
        )


def test_the_daily_chart_equals_the_raw_rows(history):
    start, end = TODAY - timedelta(days=45), TODAY
    answer = {
        row["date"]: (row["credits"], row["requests"])
        for row in usage_daily(business=history, start=start, end=end)
    }

    for day, (credits, requests) in answer.items():
        calls = AITransaction.objects.filter(
            business=history,
            timestamp__gte=day_start(day),
            timestamp__lt=day_start(day + timedelta(1)),
        )
        assert requests == calls.count(), day
        assert credits == (calls.aggregate(total=Sum("credits_used"))["total"] or 0), day


def test_a_second_run_changes_nothing_and_a_new_day_is_added(history):
    before = list(UsageDaily.objects.order_by("id").values_list("id", flat=True))

    usage_rollup_build()
    assert list(UsageDaily.objects.order_by("id").values_list("id", flat=True)) == before

    AITransaction.objects.filter(status="pending").update(status="completed")  # all settled
    usage_rollup_build(now=timezone.now() + timedelta(days=3))
    assert rolled_through(business_id=history.pk) == TODAY + timedelta(days=2)


def test_a_hold_released_by_the_cron_and_settled_after_its_day_closed_is_counted(business):
    credits_add(business=business, amount="20", kind="grant")
    hold = credits_reserve(business=business, user=business.owner, feature="product_description")
    AITransaction.objects.filter(pk=hold.pk).update(timestamp=timezone.now() - timedelta(days=2))
    credits_release(hold=hold, error_message="stale")
    usage_rollup_build()
    day = TODAY - timedelta(days=2)
    assert rolled_through(business_id=business.pk) == TODAY - timedelta(days=1)

    credits_settle(hold=hold, tokens_used=33)  # the call reports back: charged afresh

    row = UsageDaily.objects.get(business=business, day=day)
    assert (row.requests, row.successes, row.credits_used, row.tokens_used) == (1, 1, 2.5, 33)
    answer = usage_summary(business=business, start=day, end=day)
    assert answer["totals"]["successes"] == 1 and answer["totals"]["credits_used"] == 2.5


def test_the_command_runs_the_job(business):
    other = BusinessFactory()
    for shop in (business, other):
        AITransaction.objects.create(business=shop, feature="product_description")
    AITransaction.objects.update(timestamp=timezone.now() - timedelta(days=1))
    out = StringIO()

    call_command("rollup_ai_usage", stdout=out)

    assert "Rolled up usage for 2 business(es)." in out.getvalue()
    assert UsageRollupState.objects.count() == 2
