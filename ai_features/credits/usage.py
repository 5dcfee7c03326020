"""Reading usage: the transaction log's filters, and the summary per feature or per user.

What a call cost us (`cost_to_us`) is ours, not the shop's: nothing here answers with it.

The summaries read the daily rollup (`credits.rollup`) for the closed days wholly inside the
period, and the raw rows for the rest (today, days not closed yet, and the parts of days a
period cuts), so they cost the same whatever the history's length, and say the same as the raw
rows alone would."""

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Business
from ai_features.credits.money import ZERO
from ai_features.credits.rollup import day_start, rolled_through
from ai_features.models import AITransaction, UsageDaily

Status = AITransaction.UsageStatus


def _start_of(day_or_moment: date | datetime) -> datetime:
    if isinstance(day_or_moment, datetime):
        return day_or_moment
    return timezone.make_aware(datetime.combine(day_or_moment, time.min))


def _end_of(day_or_moment: date | datetime) -> datetime | None:
    """A date means the whole day: `to=2026-01-31` includes everything on the 31st. The last
    representable day has no day after it, so it means no upper bound (None)."""
    if isinstance(day_or_moment, datetime):
        return day_or_moment
    try:
        return _start_of(day_or_moment + timedelta(days=1))
    except OverflowError:
        return None


def period_is_backwards(start, end) -> bool:
    """True when `from` lies after `to` (a date and a date-time compare as the times they mean)."""
    if start is None or end is None:
        return False
    until = _end_of(end)
    return until is not None and _start_of(start) >= until


def transactions_filter(
    *,
    business: Business,
    feature: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    success: bool | None = None,
    user: int | None = None,
) -> QuerySet[AITransaction]:
    """The business's usage transactions, newest first, with who made each (in the same query),
    narrowed by the given filters."""
    found = AITransaction.objects.filter(business=business).select_related("user")
    if feature:
        found = found.filter(feature=feature)
    if user is not None:
        found = found.filter(user_id=user)
    if start is not None:
        found = found.filter(timestamp__gte=_start_of(start))
    if end is not None and (until := _end_of(end)) is not None:
        found = found.filter(timestamp__lt=until)
    if success is True:  # a pending hold has not succeeded yet
        found = found.filter(success=True, status=Status.COMPLETED)
    elif success is False:
        found = found.filter(success=False)
    return found.order_by("-timestamp", "-id")


# For each `by`: the answer's key for its rows, what a row is grouped by, and their order.
SUMMARY_GROUPS = {
    "feature": ("features", ["feature"], lambda row: row["feature"]),
    # A deleted user's calls stay, as one row without a user, after the others.
    "user": (
        "users",
        ["user_id"],  # the usernames are read after, for the few users there are
        lambda row: (row["user__username"] is None, row["user__username"] or "", row["user_id"]),
    ),
}


def _period_split(*, business: Business, start, end) -> tuple[tuple[date, date] | None, Q | None]:
    """The closed days wholly inside the period (first, last), read from the rollup; and the
    rest of it as a filter on the raw rows' timestamps (None: nothing left)."""
    since = None if start is None else _start_of(start)
    until = None if end is None else _end_of(end)
    through = rolled_through(business_id=business.pk)
    whole = Q()
    if since is not None:
        whole &= Q(timestamp__gte=since)
    if until is not None:
        whole &= Q(timestamp__lt=until)
    if through is None:
        return None, whole
    first = date.min if since is None else timezone.localdate(since)
    if since is not None and day_start(first) != since:
        first += timedelta(days=1)  # the period starts mid-day: that day is read raw
    last = through if until is None else min(through, timezone.localdate(until) - timedelta(1))
    if first > last:
        return None, whole
    rest = []
    if since is not None and since < day_start(first):
        rest.append(Q(timestamp__gte=since, timestamp__lt=day_start(first)))
    after = day_start(last + timedelta(days=1))
    if until is None:
        rest.append(Q(timestamp__gte=after))
    elif after < until:
        rest.append(Q(timestamp__gte=after, timestamp__lt=until))
    raw = None
    for part in rest:
        raw = part if raw is None else raw | part
    return (first, last), raw


RAW_SUMS = {
    "requests": Count("id"),
    "successes": Count("id", filter=Q(success=True, status=Status.COMPLETED)),
    "credits_used": Sum("credits_used"),
    "tokens_used": Sum("tokens_used"),
}
ROLLED_SUMS = {name: Sum(name) for name in RAW_SUMS}
SUMMED = {"requests": 0, "successes": 0, "credits_used": ZERO, "tokens_used": 0}


def _grouped(*, business: Business, start, end, group: list[str]) -> dict[tuple, dict]:
    """The period's sums per `group` (field names of both the rollup and the raw rows)."""
    days, raw = _period_split(business=business, start=start, end=end)
    parts = []
    if days is not None:
        rolled = UsageDaily.objects.filter(business=business, day__gte=days[0], day__lte=days[1])
        parts.append(rolled.values(*group).annotate(**ROLLED_SUMS).order_by())
    if raw is not None:
        calls = AITransaction.objects.filter(business=business).filter(raw)
        parts.append(calls.values(*group).annotate(**RAW_SUMS).order_by())
    found: dict[tuple, dict] = {}
    for rows in parts:
        for row in rows:
            key = tuple(row[name] for name in group)
            into = found.setdefault(key, {**dict(zip(group, key, strict=True)), **SUMMED})
            for name in SUMMED:
                into[name] += row[name] or SUMMED[name]
    return found


def usage_summary(
    *,
    business: Business,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    by: str = "feature",
) -> dict:
    """Per feature (or per user, `by="user"`): requests, successes, credits used and tokens;
    plus the totals."""
    rows_key, group, order = SUMMARY_GROUPS[by]
    grouped = list(_grouped(business=business, start=start, end=end, group=group).values())
    if by == "user":  # totalled per user first: no join over the rows for the usernames
        ids = [row["user_id"] for row in grouped if row["user_id"] is not None]
        names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
        for row in grouped:
            row["user__username"] = names.get(row["user_id"])
    found = [_summary_row(row) for row in sorted(grouped, key=order)]
    totals = {
        key: sum((row[key] for row in found), start_value) for key, start_value in SUMMED.items()
    }
    return {"start": start, "end": end, rows_key: found, "totals": totals}


def _summary_row(row: dict) -> dict:
    """A grouped row as the summary shows it: the user as `{"id", "username"}` (None once
    deleted)."""
    if "user_id" not in row:
        return row
    user_id, username = row.pop("user_id"), row.pop("user__username")
    return {"user": None if user_id is None else {"id": user_id, "username": username}, **row}


DAILY_DEFAULT_DAYS = 30
DAILY_MAX_DAYS = 366


def usage_daily(*, business: Business, start: date | None = None, end: date | None = None):
    """Per day (in the server's time zone), the credits spent and the feature calls made, with
    the days without use as zeros so a chart can draw them; the last 30 days by default."""
    span = timedelta(days=DAILY_DEFAULT_DAYS - 1)
    if end is None:
        end = max(start, timezone.localdate()) if start else timezone.localdate()
        end = min(end, _shifted(start, span)) if start else end
    if start is None:
        start = _shifted(end, -span)
    by_day = {
        day: {"credits": sums["credits_used"], "requests": sums["requests"]}
        for (day,), sums in _daily(business=business, start=start, end=end).items()
    }
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [
        {
            "date": day,
            "credits": by_day[day]["credits"] if day in by_day else ZERO,
            "requests": by_day[day]["requests"] if day in by_day else 0,
        }
        for day in days
    ]


def _daily(*, business: Business, start: date, end: date) -> dict[tuple, dict]:
    """Per day of [start, end]: the rollup's sums for closed days, the raw rows' for the rest."""
    days, raw = _period_split(business=business, start=start, end=end)
    found: dict[tuple, dict] = {}
    if days is not None:
        rolled = UsageDaily.objects.filter(business=business, day__gte=days[0], day__lte=days[1])
        for row in rolled.values("day").annotate(**ROLLED_SUMS).order_by():
            found[(row["day"],)] = row
    if raw is not None:
        calls = AITransaction.objects.filter(business=business).filter(raw)
        local_day = TruncDate("timestamp", tzinfo=timezone.get_current_timezone())
        for row in calls.annotate(day=local_day).values("day").annotate(**RAW_SUMS).order_by():
            found[(row["day"],)] = row  # whole days: no day is in both parts
    return found


def _shifted(day: date, by: timedelta) -> date:
    """`day + by`, stopping at the first or last day a date can hold."""
    try:
        return day + by
    except OverflowError:
        return date.max if by > timedelta(0) else date.min
