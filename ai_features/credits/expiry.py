"""The scheduled upkeep of balances: expiry, expiry warnings and holds left behind by a crash."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from ai_features.credits import alerts
from ai_features.credits.billing import credits_release
from ai_features.credits.credits import credits_expire
from ai_features.credits.locks import lock_balance
from ai_features.models import AITransaction, BusinessAICredits

WARN_BEFORE = timedelta(days=7)


def credits_expire_due(*, now: datetime) -> list[int]:
    """Expire every balance past its expiry; the ids of the businesses expired."""
    due = BusinessAICredits.objects.filter(is_active=True, expires_at__lte=now).values_list(
        "business_id", flat=True
    )
    return [
        business_id for business_id in list(due) if credits_expire(business=business_id, now=now)
    ]


def expiring_soon_warn(*, now: datetime) -> list[int]:
    """Warn each business whose credits expire within 7 days, once per expiry date."""
    soon = (
        BusinessAICredits.objects.filter(
            is_active=True, balance__gt=0, expires_at__gt=now, expires_at__lte=now + WARN_BEFORE
        )
        .exclude(expiry_warned_for=F("expires_at"))
        .values_list("business_id", flat=True)
    )
    return [business_id for business_id in list(soon) if _warn(business_id=business_id, now=now)]


@transaction.atomic
def _warn(*, business_id: int, now: datetime) -> bool:
    row = lock_balance(business=business_id)
    if row is None or row.expiry_warned_for == row.expires_at or row.expires_at <= now:
        return False
    row.expiry_warned_for = row.expires_at
    row.save(update_fields=["expiry_warned_for"])
    alerts.alert_raise(
        business_id=business_id, alert_type=alerts.Type.EXPIRING_SOON, balance=row.balance
    )
    return True


def holds_release_stale(*, older_than: timedelta, now: datetime) -> list[int]:
    """Release holds a crash left pending for longer than `older_than`; the ids released."""
    stale = AITransaction.objects.filter(
        status=AITransaction.UsageStatus.PENDING, timestamp__lte=now - older_than
    )
    message = f"Hold released: not settled within {int(older_than.total_seconds() // 60)} minutes."
    released = []
    for hold in list(stale):
        result = credits_release(hold=hold, error_message=message)
        released_now = result.error_message.startswith(message)  # not by someone else meanwhile
        if result.status == AITransaction.UsageStatus.RELEASED and released_now:
            released.append(hold.pk)  # else it was settled or released meanwhile
    return released
