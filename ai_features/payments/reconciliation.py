"""Reconciliation: purchases whose payment no verify or webhook settled are asked about again.

The rule for which purchases are re-checked lives here alone; the cron command and the admin's
re-check action both use it."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ai_features.credits.locks import lock_purchase
from ai_features.models import AICreditPurchase
from ai_features.payments.fulfilment import Outcome, Settlement, purchase_fulfil
from ai_features.payments.gateways import VerdictStatus, gateway_for

Status = AICreditPurchase.PaymentStatus
# A checkout still unpaid this long after it started is failed: no gateway keeps one open longer
# (Paystack's expire within hours, Stripe's within 24 hours).
UNPAID_AFTER = timedelta(hours=24)
# A declined attempt can be retried in the same checkout, so a purchase the gateway called
# "failed" is asked about again for a while, in case the webhook of a later success was lost.
RECHECK_DECLINED_FOR = timedelta(hours=48)


def recheckable(*, now: datetime, by_operator: bool = False) -> Q:
    """Purchases worth asking their gateway about again: pending ones, and for the cron those
    declined in the last 48 hours. An operator may ask about any failed one (money received
    always gives credits, however late it is noticed)."""
    declined = Q(payment_status=Status.FAILED)
    if not by_operator:
        declined &= Q(
            gateway_status__in=["failed", "complete/unpaid", "open/unpaid"],
            purchased_at__gte=now - RECHECK_DECLINED_FOR,
        )
    paid_through_gateway = Q(gateway__in=["paystack", "stripe"])
    return paid_through_gateway & (Q(payment_status=Status.PENDING) | declined)


def purchases_to_recheck(*, now: datetime, older_than: timedelta) -> QuerySet[AICreditPurchase]:
    """Recheckable purchases started at least `older_than` ago, oldest first."""
    return AICreditPurchase.objects.filter(
        recheckable(now=now), purchased_at__lte=now - older_than
    ).order_by("purchased_at")


def is_recheckable(purchase: AICreditPurchase, *, by_operator: bool = False) -> bool:
    rule = recheckable(now=timezone.now(), by_operator=by_operator)
    return AICreditPurchase.objects.filter(rule, pk=purchase.pk).exists()


def purchase_reconcile(*, purchase: AICreditPurchase, now: datetime | None = None) -> Outcome:
    """Settle a purchase left pending; fail it once it has gone unpaid for 24 hours."""
    now = now or timezone.now()
    verdict = gateway_for(purchase.gateway).verdict_fetch(purchase=purchase)
    if verdict.status == VerdictStatus.UNKNOWN:  # the checkout never reached the gateway
        settlement = Settlement(Outcome.PENDING, purchase)
    else:
        settlement = purchase_fulfil(purchase_id=purchase.pk, verdict=verdict, source="reconcile")
    outcome = settlement.outcome
    if outcome == Outcome.FAILED and settlement.purchase.payment_status == Status.PENDING:
        # Not completed yet: verify's answer is "failed", but the purchase is still pending,
        # and the cron's report must say so.
        outcome = Outcome.PENDING
    # A payment the gateway says is on its way (a Stripe delayed method such as a bank debit
    # takes days) is not abandoned: it stays pending until the gateway settles it.
    on_its_way = verdict.status == VerdictStatus.PENDING
    if (
        outcome != Outcome.CREDITED
        and not on_its_way
        and purchase.purchased_at <= now - UNPAID_AFTER
    ):
        return _fail_if_still_pending(purchase_id=purchase.pk) or outcome
    return outcome


@transaction.atomic
def _fail_if_still_pending(*, purchase_id: int) -> Outcome | None:
    purchase = lock_purchase(purchase_id=purchase_id)
    if purchase.payment_status != Status.PENDING:
        return None
    purchase.payment_status = Status.FAILED
    purchase.failure_reason = "abandoned: still unpaid 24 hours after checkout started"
    purchase.save(update_fields=["payment_status", "failure_reason"])
    return Outcome.FAILED
