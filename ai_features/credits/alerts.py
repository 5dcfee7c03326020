"""Usage alerts (design section 9), each emailed to the business owner after commit."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import Business
from ai_features.errors import AlertNotFound
from ai_features.models import AIUsageAlert, BusinessAICredits

logger = logging.getLogger(__name__)
Type = AIUsageAlert.Type

SUBJECTS = {
    Type.LOW_BALANCE: "Your AI credits are running low",
    Type.DEPLETED: "You have used all your AI credits",
    Type.EXPIRED: "Your AI credits have expired",
    Type.EXPIRING_SOON: "Your AI credits expire soon",
    Type.DISPUTE_OPENED: "A payment for your AI credits is disputed",
}


def alert_raise(
    *, business_id: int, alert_type: str, balance: Decimal, threshold: Decimal | None = None
) -> AIUsageAlert:
    """Record an alert and email the owner once the surrounding transaction commits."""
    alert = AIUsageAlert.objects.create(
        business_id=business_id,
        alert_type=alert_type,
        current_balance=balance,
        threshold=threshold,
    )
    transaction.on_commit(lambda: alert_email(alert_id=alert.pk))
    return alert


def alerts_after_debit(*, row: BusinessAICredits, before: Decimal) -> None:
    """Raise the alerts a debit of a locked row from `before` to `row.balance` calls for."""
    threshold = settings.AI_CREDIT_LOW_BALANCE_THRESHOLD
    if before >= threshold > row.balance and not row.low_balance_alerted:
        row.low_balance_alerted = True
        alert_raise(
            business_id=row.business_id,
            alert_type=Type.LOW_BALANCE,
            balance=row.balance,
            threshold=threshold,
        )
    if before > 0 and row.balance == 0:
        alert_raise(business_id=row.business_id, alert_type=Type.DEPLETED, balance=row.balance)


def alert_email(*, alert_id: int) -> None:
    """Email an alert to the business owner. It runs once the transaction that raised the alert
    has committed, so nothing here may raise into the caller: a failure is logged, and the
    alert stays recorded."""
    try:
        alert = AIUsageAlert.objects.select_related("business__owner").get(pk=alert_id)
        business: Business = alert.business
        recipient = business.owner.email or business.email
        if not recipient:
            return
        body = (
            f"Hello,\n\n{SUBJECTS[alert.alert_type]} for {business.name}.\n"
            f"Current balance: {alert.current_balance} credits.\n\n"
            "Buy more credits from the AI credits page of your point-of-sale app.\n"
        )
        send_mail(SUBJECTS[alert.alert_type], body, settings.DEFAULT_FROM_EMAIL, [recipient])
    except Exception:
        logger.exception("alert email failed alert=%s", alert_id)


def alert_acknowledge(*, business: Business, alert_id: int) -> AIUsageAlert:
    """Mark one of the business's alerts as seen."""
    too_big = alert_id > 2**63 - 1  # no 64-bit id is that large, and the database would refuse it
    alert = None if too_big else AIUsageAlert.objects.filter(business=business, pk=alert_id).first()
    if alert is None:
        raise AlertNotFound()
    if not alert.acknowledged:
        alert.acknowledged = True
        alert.save(update_fields=["acknowledged"])
    return alert


def alerts_list(*, business: Business, acknowledged: bool | None = None) -> QuerySet[AIUsageAlert]:
    """The business's alerts, newest first; optionally only (un)acknowledged ones."""
    found = AIUsageAlert.objects.filter(business=business).order_by("-sent_at", "-id")
    if acknowledged is not None:
        found = found.filter(acknowledged=acknowledged)
    return found
