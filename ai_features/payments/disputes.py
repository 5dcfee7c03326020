"""Disputes (chargebacks), from either gateway (design section 7, rule 5).

A dispute that opens claims back the disputed share of the purchase's credits by the refund's
rule, holds included, and tells the owner. One closed in the shop's favour gives back what it
took; one lost keeps it taken. Deliveries repeat and arrive out of order: a repeat changes
nothing, and a close that comes before its open is recorded, so that the late open changes
nothing. A lost close with no open before it still takes the credits back: the money is gone.
"""

import logging

from django.db import transaction
from django.utils import timezone

from ai_features.credits import alerts
from ai_features.credits.clawbacks import credits_claim_cancel
from ai_features.credits.credits import balance_get
from ai_features.credits.locks import lock_purchase
from ai_features.models import AICreditPurchase, CreditClawback, PurchaseDispute
from ai_features.payments.gateways.base import DisputeReport
from ai_features.payments.refunds import purchase_claim
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Status = PurchaseDispute.Status
PaymentStatus = AICreditPurchase.PaymentStatus


@transaction.atomic
def purchase_dispute_open(
    *, purchase_id: int, report: DisputeReport
) -> tuple[PurchaseDispute, bool]:
    """Record a dispute that opened, and claim its share back; whether this delivery did."""
    purchase = lock_purchase(purchase_id=purchase_id)
    dispute, created = _dispute_for(purchase, report)
    if not created:
        return dispute, False  # a repeat, or its close came first
    dispute.opened_at = timezone.now()
    dispute.clawback = _claimed(purchase, dispute)
    dispute.save(update_fields=["opened_at", "clawback"])
    if purchase.completed_at is not None:
        purchase.payment_status = PaymentStatus.DISPUTED
        purchase.save(update_fields=["payment_status"])
        alerts.alert_raise(
            business_id=purchase.business_id,
            alert_type=alerts.Type.DISPUTE_OPENED,
            balance=balance_get(business=purchase.business)["balance"],
        )
    _log("opened", purchase, dispute)
    return dispute, True


@transaction.atomic
def purchase_dispute_close(
    *, purchase_id: int, report: DisputeReport
) -> tuple[PurchaseDispute, bool]:
    """Record how a dispute closed: won gives back what it took, lost keeps it taken; whether
    this delivery changed anything."""
    purchase = lock_purchase(purchase_id=purchase_id)
    dispute, created = _dispute_for(purchase, report)
    if dispute.status != Status.OPEN:
        return dispute, False
    dispute.status = Status.WON if report.won else Status.LOST
    dispute.closed_at = timezone.now()
    if dispute.clawback_id and report.won:
        credits_claim_cancel(claim=dispute.clawback)
        dispute.clawback.refresh_from_db()
    elif created and not report.won:
        dispute.clawback = _claimed(purchase, dispute)
    dispute.save(update_fields=["status", "closed_at", "clawback"])
    if purchase.completed_at is not None:
        purchase.payment_status = _status_after_close(purchase)
        purchase.save(update_fields=["payment_status"])
    _log(dispute.status, purchase, dispute)
    return dispute, True


def _dispute_for(purchase: AICreditPurchase, report: DisputeReport):
    amount = purchase.total_amount if report.amount is None else report.amount
    return PurchaseDispute.objects.get_or_create(
        gateway=purchase.gateway,
        dispute_id=report.dispute_id,
        defaults={"purchase": purchase, "amount": amount, "currency": report.currency},
    )


def _claimed(purchase: AICreditPurchase, dispute: PurchaseDispute) -> CreditClawback | None:
    if purchase.completed_at is None:  # never credited: nothing to take back
        return None
    return purchase_claim(purchase=purchase, money=dispute.amount, kind=CreditClawback.Kind.DISPUTE)


def _status_after_close(purchase: AICreditPurchase) -> str:
    """`refunded` while any refund or lost dispute claims its credits; else `completed`, or
    still `disputed` while another dispute is open."""
    disputes = purchase.disputes.all()
    if any(d.status == Status.LOST for d in disputes) or purchase.refunds.exists():
        return PaymentStatus.REFUNDED
    if any(d.status == Status.OPEN for d in disputes):
        return PaymentStatus.DISPUTED
    return PaymentStatus.COMPLETED


def _log(what: str, purchase: AICreditPurchase, dispute: PurchaseDispute) -> None:
    claim = dispute.clawback
    logger.info(
        "dispute %s reference=%s dispute=%s amount=%s %s taken=%s reserved=%s shortfall=%s",
        what,
        purchase.payment_reference,
        loggable(dispute.dispute_id, limit=80),
        dispute.amount,
        loggable(dispute.currency),
        claim.taken if claim else 0,
        claim.reserved if claim else 0,
        claim.shortfall if claim else 0,
    )
