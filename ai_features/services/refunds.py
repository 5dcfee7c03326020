"""Applying Paystack refunds: the refunded share of a purchase's credits comes back out."""

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from ai_features.models import AICreditPurchase, PurchaseRefund
from ai_features.services.credits import credits_clawback
from ai_features.services.locks import lock_purchase
from ai_features.services.money import from_pesewas, to_pesewas

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
Status = AICreditPurchase.Status


def refund_key_for(data: dict) -> str:
    """Paystack sends no event id; the refund's own reference (or id) names it."""
    key = data.get("refund_reference") or data.get("id")
    return str(key) if key else f"{data.get('transaction_reference')}:{data.get('amount')}"


@transaction.atomic
def purchase_refund_apply(*, purchase_id: int, data: dict) -> PurchaseRefund | None:
    """Claw back the refunded share of the credits (never below zero); None if seen before."""
    purchase = lock_purchase(purchase_id=purchase_id)
    key = refund_key_for(data)
    if PurchaseRefund.objects.filter(refund_key=key).exists():
        return None
    refunded = from_pesewas(data["amount"])
    paid = purchase.total_amount
    credited = purchase.payment_status in {Status.COMPLETED, Status.REFUNDED}
    if credited and paid > 0:
        share = (purchase.total_credits * refunded / paid).quantize(CENT, ROUND_HALF_UP)
        still_held = purchase.total_credits - purchase.refunded_credits - purchase.refund_shortfall
        share = min(share, still_held)
    else:  # never credited, so there is nothing to take back
        share = Decimal("0.00")
    taken = (
        credits_clawback(business=purchase.business, amount=share, purchase=purchase)
        if share > 0
        else Decimal("0.00")
    )
    refund = PurchaseRefund.objects.create(
        purchase=purchase,
        refund_key=key,
        amount=refunded,
        currency=str(data.get("currency") or purchase.currency),
        credits_clawed_back=taken,
        shortfall=share - taken,
    )
    purchase.refunded_credits += taken
    purchase.refund_shortfall += share - taken
    purchase.payment_status = Status.REFUNDED
    purchase.save(update_fields=["refunded_credits", "refund_shortfall", "payment_status"])
    logger.info(
        "refund applied reference=%s amount=%s pesewas=%s credits_taken=%s shortfall=%s",
        purchase.payment_reference,
        refunded,
        to_pesewas(refunded),
        taken,
        share - taken,
    )
    return refund
