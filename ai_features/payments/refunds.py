"""Applying refunds, from either gateway: the refunded share of a purchase's credits comes
back out (design section 7, rule 5)."""

import hashlib
import json
import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum

from ai_features.models import AICreditPurchase, PurchaseRefund
from ai_features.services.credits import credits_clawback
from ai_features.services.locks import lock_purchase
from ai_features.services.money import CENT, ZERO, from_minor_units
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


@transaction.atomic
def purchase_refund_apply(*, purchase_id: int, data: dict) -> PurchaseRefund | None:
    """Apply one Paystack refund (its amount in minor units); None if it was applied before."""
    purchase = lock_purchase(purchase_id=purchase_id)
    key = refund_key_for(data)
    if PurchaseRefund.objects.filter(refund_key=key).exists():
        return None
    currency = str(data.get("currency") or purchase.currency)
    return _apply_locked(purchase, key, from_minor_units(data["amount"]), currency)


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


def _apply_locked(
    purchase: AICreditPurchase, key: str, refunded: Decimal, currency: str
) -> PurchaseRefund:
    """Claw back the refunded share of the credits (never below zero).

    A refund of a payment not yet credited takes nothing back: it is recorded, and fulfilment
    gives only the credits of the money kept if the payment is credited later."""
    share = taken = ZERO
    if purchase.completed_at is not None:  # the payment was credited
        still_held = purchase.total_credits - purchase.refunded_credits - purchase.refund_shortfall
        share = min(refunded_share(purchase, refunded), still_held)
        if share > 0:
            taken = credits_clawback(business=purchase.business, amount=share, purchase=purchase)
        purchase.refunded_credits += taken
        purchase.refund_shortfall += share - taken
        purchase.payment_status = Status.REFUNDED
        purchase.save(update_fields=["refunded_credits", "refund_shortfall", "payment_status"])
    refund = PurchaseRefund.objects.create(
        purchase=purchase,
        refund_key=key,
        amount=refunded,
        currency=currency,
        credits_clawed_back=taken,
        shortfall=share - taken,
    )
    logger.info(
        "refund applied reference=%s amount=%s %s credits_taken=%s shortfall=%s",
        purchase.payment_reference,
        refunded,
        loggable(refund.currency),
        taken,
        share - taken,
    )
    return refund
