"""Claims on a purchase's credits: what a refund or a dispute takes back (design section 7,
rule 5), and what a dispute closed in the shop's favour gives back.

A claim takes `min(share, balance)` at once, reserves up to what pending holds have on hold
that no earlier claim has reserved, and records the rest as shortfall. Holds released later pay
the reserve (`credits.reserve_pay_locked`); holds that settle turn it into shortfall
(`credits.reserve_shrink_locked`). Per claim, always: taken + reserved + shortfall = share.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from ai_features.credits.alerts import alerts_after_debit
from ai_features.credits.credits import (
    HOLD_FIELDS,
    credit_locked,
    credits_amount_checked,
    ledger_write,
)
from ai_features.credits.locks import lock_balance, lock_balance_row
from ai_features.credits.money import ZERO
from ai_features.models import (
    AICreditPurchase,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
)

Kind = CreditLedgerEntry.Kind
# The entries whose sum, negated, is what a business has spent or forfeited.
CONSUMING = [Kind.USAGE, Kind.USAGE_RELEASE, Kind.EXPIRY]


def _consumed_by(business_id: int) -> Decimal:
    """Credits the business has spent (settled) or forfeited so far."""
    total = CreditLedgerEntry.objects.filter(business_id=business_id, kind__in=CONSUMING).aggregate(
        total=Sum("amount")
    )["total"]
    on_hold = BusinessAICredits.objects.filter(business_id=business_id).aggregate(
        total=Sum("held")
    )["total"]
    return -(total or ZERO) - (on_hold or ZERO)


@transaction.atomic
def credits_claim(*, purchase: AICreditPurchase, share: Decimal, kind: str) -> CreditClawback:
    """Claim `share` of a locked purchase's credits back, for a refund or a dispute: taken from
    the balance, reserved out of pending holds, and the rest recorded as shortfall."""
    share = credits_amount_checked(share)
    row = lock_balance(business=purchase.business_id)
    claim = CreditClawback(
        purchase=purchase,
        balance_row=row,
        kind=kind,
        share=share,
        consumed_before=_consumed_by(purchase.business_id),
    )
    if row is not None:
        claim.taken = min(share, row.balance)
        claim.reserved = min(share - claim.taken, row.held - row.clawback_reserved)
        claim.held_at_claim = row.held
    claim.shortfall = claim.shortfall_at_claim = share - claim.taken - claim.reserved
    claim.save()
    if row is not None and (claim.taken or claim.reserved):
        before = row.balance
        row.balance -= claim.taken
        row.clawback_reserved += claim.reserved
        if claim.taken:
            alerts_after_debit(row=row, before=before)
            ledger_write(row=row, kind=kind, amount=-claim.taken, purchase=purchase, clawback=claim)
        row.save(update_fields=HOLD_FIELDS)
    return claim


@transaction.atomic
def credits_claim_cancel(*, claim: CreditClawback) -> Decimal:
    """Cancel a claim (a dispute closed in the shop's favour): drop its open reserve and give
    back what it took, without restarting the expiry clock; what was given back."""
    # The balance rows before the claim itself, in the lock order. Once its row is locked, no
    # released hold can pay the claim's reserve meanwhile, so what it took stays what it is.
    reserve_row = lock_balance_row(row_id=claim.balance_row_id) if claim.balance_row_id else None
    taken = CreditClawback.objects.filter(pk=claim.pk).values_list("taken", flat=True).get()
    row = lock_balance(business=claim.purchase.business_id, create=True) if taken else None
    claim = CreditClawback.objects.select_for_update().get(pk=claim.pk)
    if claim.cancelled:
        return ZERO
    if claim.reserved:
        reserve_row.clawback_reserved -= claim.reserved
        reserve_row.save(update_fields=["clawback_reserved", "updated_at"])
        claim.share -= claim.reserved
        claim.reserved = ZERO
    if claim.taken:
        if row.pk == getattr(reserve_row, "pk", None):
            row = reserve_row  # one instance, so neither save undoes the other
        elif row.expires_at is None and reserve_row is not None:
            row.expires_at = reserve_row.expires_at  # a fresh row keeps the old clock
        credit_locked(
            row=row,
            amount=claim.taken,
            kind=Kind.DISPUTE_RETURN,
            purchase_id=claim.purchase_id,
            clawback=claim,
            also_save=["expires_at"],
        )
        claim.returned = claim.taken
    claim.cancelled = True
    claim.save(update_fields=["share", "reserved", "returned", "cancelled"])
    return claim.returned
