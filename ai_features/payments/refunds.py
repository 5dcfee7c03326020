"""Applying refunds, from either gateway: the refunded share of a purchase's credits is claimed
back (design section 7, rule 5; `credits.clawbacks`)."""

import hashlib
import json
import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum

from ai_features.credits.clawbacks import credits_claim
from ai_features.credits.locks import lock_purchase
from ai_features.credits.money import CENT, ZERO, from_minor_units
from ai_features.models import AICreditPurchase, CreditClawback, PurchaseDispute, PurchaseRefund
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Status = AICreditPurchase.PaymentStatus


def refund_key_for(data: dict) -> str:
    """Paystack sends no event id; the refund's own reference (or id) names it, else its data."""
    key = data.get("refund_reference") or data.get("id")
    if key:
        return str(key)
    canonical = json.dumps(data, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def refunded_share(purchase: AICreditPurchase, refunded: Decimal) -> Decimal:
    """The credits that `refunded` money bought: credits x refunded / paid, half up."""
    if purchase.total_amount <= 0:
        return ZERO
    share = purchase.total_credits * refunded / purchase.total_amount
    return min(share.quantize(CENT, ROUND_HALF_UP), purchase.total_credits)


def purchase_claimable(purchase: AICreditPurchase) -> Decimal:
    """Credits of the purchase that no refund or open or lost dispute has claimed yet: refunds
    and disputes together never take back more than it gave."""
    claimed = (
        purchase.clawbacks.filter(cancelled=False).aggregate(total=Sum("share"))["total"] or ZERO
    )
    return max(purchase.total_credits - claimed, ZERO)


def purchase_claim(
    *, purchase: AICreditPurchase, money: Decimal, kind: str
) -> CreditClawback | None:
    """Claim back the credits `money` of a locked, credited purchase bought, up to what is
    still unclaimed; None when nothing is left to claim."""
    share = min(refunded_share(purchase, money), purchase_claimable(purchase))
    if share <= 0:
        return None
    return credits_claim(purchase=purchase, share=share, kind=kind)


@transaction.atomic
def purchase_refund_apply(*, purchase_id: int, data: dict) -> PurchaseRefund | None:
    """Apply one Paystack refund (its amount in minor units); None if it was applied before."""
    purchase = lock_purchase(purchase_id=purchase_id)
    key = refund_key_for(data)
    if PurchaseRefund.objects.filter(refund_key=key).exists():
        return None
    return _apply_locked(purchase, key, from_minor_units(data["amount"]), str(data["currency"]))


@transaction.atomic
def purchase_refunded_total_apply(
    *, purchase_id: int, total_minor: int, currency: str, refund_key: str
) -> PurchaseRefund | None:
    """Stripe reports how much of a charge is refunded so far: apply what is new since the
    refunds already recorded; None when nothing is."""
    purchase = lock_purchase(purchase_id=purchase_id)
    if PurchaseRefund.objects.filter(refund_key=refund_key).exists():
        return None
    already = purchase.refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    new = from_minor_units(total_minor) - already
    if new <= 0:
        return None
    return _apply_locked(purchase, refund_key, new, currency)


def _not_yet_claimed_money(purchase: AICreditPurchase, refunded: Decimal) -> Decimal:
    """The part of `refunded` money that an open or lost dispute has not claimed already: a
    dispute the shop accepted is followed by the refund of the same money."""
    disputed = (
        purchase.disputes.exclude(status=PurchaseDispute.Status.WON)
        .filter(clawback__isnull=False)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    before = purchase.refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    return max(before + refunded - disputed, ZERO) - max(before - disputed, ZERO)


def _apply_locked(
    purchase: AICreditPurchase, key: str, refunded: Decimal, currency: str
) -> PurchaseRefund:
    """Claim back the refunded share of the credits.

    A refund of a payment not yet credited takes nothing back: it is recorded, and fulfilment
    gives only the credits of the money kept if the payment is credited later."""
    claim = None
    if purchase.completed_at is not None:  # the payment was credited
        money = _not_yet_claimed_money(purchase, refunded)
        if money > 0:
            claim = purchase_claim(purchase=purchase, money=money, kind=CreditClawback.Kind.REFUND)
        purchase.payment_status = Status.REFUNDED
        purchase.save(update_fields=["payment_status"])
    refund = PurchaseRefund.objects.create(
        purchase=purchase, refund_key=key, amount=refunded, currency=currency, clawback=claim
    )
    logger.info(
        "refund applied reference=%s amount=%s %s credits_taken=%s reserved=%s shortfall=%s",
        purchase.payment_reference,
        refunded,
        loggable(refund.currency),
        refund.credits_clawed_back,
        refund.credits_reserved,
        refund.shortfall,
    )
    return refund
