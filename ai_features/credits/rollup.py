"""The daily usage rollup (issue 21): one row per (business, day, feature, user, model) with the
calls' requests, successes, credits, tokens and cost, so usage reports cost the same at a
million rows as at a hundred.

It is built for closed days by a periodic job (`usage_rollup_build`, the `rollup_ai_usage`
cron), not in the feature call: that would add statements to every call. A day closes once it
is over (in TIME_ZONE) and no hold taken on it is pending. The readers (`credits.usage`) take
closed days from here and everything after, or a part of a day, from the raw rows. The one
change a closed day can still see, a hold the cron released that its call then settles late,
is added here in the settle's transaction (`rollup_settled_late`).

Lock order: after the purchase, usage and balance rows and the claims comes the business's
`UsageRollupState` row; the job takes it before it reads the day's rows.
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ai_features.models import AITransaction, UsageDaily, UsageRollupState

Status = AITransaction.UsageStatus
SUMS = {
    "requests": Count("id"),
    "successes": Count("id", filter=Q(success=True, status=Status.COMPLETED)),
    "credits_used": Sum("credits_used"),
    "tokens_used": Sum("tokens_used"),
    "cost_to_us": Sum("cost_to_us"),
}
KEY = ("day", "feature", "user_id", "model")


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in TIME_ZONE."""
    return timezone.make_aware(datetime.combine(day, time.min))


def rolled_through(*, business_id: int) -> date | None:
    """The last day of the business's usage that is rolled up, or None."""
    return (
        UsageRollupState.objects.filter(business_id=business_id)
        .values_list("through", flat=True)
        .first()
    )


def usage_rollup_build(*, now: datetime | None = None) -> dict[int, date]:
    """Roll up every business's closed days; per business rolled, the last day it covers now."""
    now = now or timezone.now()
    yesterday = timezone.localdate(now) - timedelta(days=1)
    done = {}
    for business_id in _businesses_with_days_to_close(before=day_start(yesterday + timedelta(1))):
        through = _business_roll_up(business_id=business_id, yesterday=yesterday)
        if through is not None:
            done[business_id] = through
    return done


def _businesses_with_days_to_close(*, before: datetime) -> list[int]:
    """Businesses with calls before `before` on a day not yet rolled up. Only the calls since
    the least advanced business's last rolled-up day are read (all of them on the first run)."""
    states = dict(UsageRollupState.objects.values_list("business_id", "through"))
    calls = AITransaction.objects.filter(timestamp__lt=before)
    if states:
        calls = calls.filter(timestamp__gte=day_start(min(states.values()) + timedelta(days=1)))
    lasts = (
        calls.values("business_id")
        .annotate(last=Max("timestamp"))
        .values_list("business_id", "last")
    )
    return sorted(
        business_id
        for business_id, last in lasts.order_by()
        if business_id not in states or timezone.localdate(last) > states[business_id]
    )


@transaction.atomic
def _business_roll_up(*, business_id: int, yesterday: date) -> date | None:
    state, _ = UsageRollupState.objects.select_for_update().get_or_create(
        business_id=business_id, defaults={"through": date.min}
    )
    calls = AITransaction.objects.filter(business_id=business_id)
    pending = calls.filter(status=Status.PENDING).aggregate(first=Min("timestamp"))["first"]
    closable = yesterday
    if pending is not None:
        closable = min(closable, timezone.localdate(pending) - timedelta(days=1))
    if state.through != date.min:
        first_day = state.through + timedelta(days=1)
    else:
        first = calls.aggregate(first=Min("timestamp"))["first"]
        first_day = timezone.localdate(first) if first else closable + timedelta(days=1)
    if closable < first_day:
        return None
    rows = (
        calls.filter(
            timestamp__gte=day_start(first_day),
            timestamp__lt=day_start(closable + timedelta(days=1)),
        )
        .annotate(day=TruncDate("timestamp", tzinfo=timezone.get_current_timezone()))
        .values(*KEY)
        .annotate(**SUMS)
        .order_by()
    )
    UsageDaily.objects.filter(
        business_id=business_id, day__gte=first_day, day__lte=closable
    ).delete()
    UsageDaily.objects.bulk_create(
        (UsageDaily(business_id=business_id, **row) for row in rows), batch_size=2000
    )
    state.through = closable
    state.save(update_fields=["through", "updated_at"])
    return closable


def rollup_settled_late(*, usage: AITransaction, before: dict) -> None:
    """A released call settled after its day was rolled up: add what changed to its row.

    `before` holds the usage row's summed fields as they were (`rollup_fields`). Inside the
    settle's transaction, after its balance row lock."""
    day = timezone.localdate(usage.timestamp)
    state = UsageRollupState.objects.select_for_update().filter(business_id=usage.business_id)
    through = state.values_list("through", flat=True).first()
    if through is None or day > through:
        return  # the job will read the row as it is now
    after = rollup_fields(usage)
    changed = {
        field: after[field] - before[field] for field in after if after[field] != before[field]
    }
    if not changed:
        return
    key = {"business_id": usage.business_id, "day": day, "feature": usage.feature}
    key.update(user_id=usage.user_id, model=usage.model)
    updated = UsageDaily.objects.filter(**key).update(
        **{field: F(field) + delta for field, delta in changed.items()}
    )
    if not updated:  # its day was rolled up while the call counted nothing there yet
        UsageDaily.objects.create(**key, requests=1, **{f: after[f] for f in after})


def rollup_fields(usage: AITransaction) -> dict:
    """What a usage row adds to its rollup row (but the request itself)."""
    succeeded = usage.success and usage.status == Status.COMPLETED
    return {
        "successes": int(succeeded),
        "credits_used": usage.credits_used,
        "tokens_used": usage.tokens_used,
        "cost_to_us": usage.cost_to_us,
    }
