"""The billing core: every balance change goes through `credits_add` or `credits_deduct`.

Each one locks the balance row and writes the ledger entry in the same transaction, so a
business's balance always equals the sum of its ledger amounts.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount
from ai_features.models import (
    AICreditPurchase,
    AITransaction,
    BusinessAICredits,
    CreditLedgerEntry,
)
from ai_features.services.locks import lock_balance
from ai_features.services.references import payment_reference_new

CENT = Decimal("0.01")
Kind = CreditLedgerEntry.Kind


def credits_amount_checked(amount) -> Decimal:
    """A positive Decimal with at most two places; anything else is refused, never rounded."""
    try:
        value = Decimal(str(amount))
    except ArithmeticError as exc:
        raise InvalidAmount() from exc
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        raise InvalidAmount()
    return value.quantize(CENT)


def credits_expiry_for(moment: datetime) -> datetime:
    """When credits topped up at `moment` expire (7 Nov 2025 -> 6 May 2026 with 180 days)."""
    return moment + timedelta(days=settings.AI_CREDIT_EXPIRY_DAYS)


def _ledger_write(*, row: BusinessAICredits, kind: str, amount: Decimal, **links):
    return CreditLedgerEntry.objects.create(
        business_id=row.business_id,
        kind=kind,
        amount=amount,
        balance_after=row.balance,
        **links,
    )


def _expire_locked(*, row: BusinessAICredits) -> CreditLedgerEntry | None:
    """Forfeit a locked, expired balance: the row goes inactive at zero, and the ledger says so."""
    forfeited = row.balance
    row.balance = Decimal("0.00")
    row.is_active = False
    row.save(update_fields=["balance", "is_active", "updated_at"])
    if forfeited:
        return _ledger_write(row=row, kind=Kind.EXPIRY, amount=-forfeited)
    return None


@transaction.atomic
def credits_add(
    *,
    business: Business,
    amount,
    kind: str,
    purchase: AICreditPurchase | None = None,
    now: datetime | None = None,
) -> CreditLedgerEntry:
    """Add credits to the business's balance and restart its expiry clock."""
    amount = credits_amount_checked(amount)
    now = now or timezone.now()
    row = lock_balance(business=business, create=True)
    if row.expires_at is not None and row.expires_at <= now:
        # A top-up after expiry starts a fresh balance; the old credits are forfeit.
        _expire_locked(row=row)
        row = lock_balance(business=business, create=True)
    row.balance += amount
    row.expires_at = credits_expiry_for(now)
    row.is_active = True
    row.purchased_at = now
    row.save(
        update_fields=[
            "balance",
            "expires_at",
            "is_active",
            "purchased_at",
            "updated_at",
        ]
    )
    return _ledger_write(row=row, kind=kind, amount=amount, purchase=purchase)


@transaction.atomic
def credits_deduct(
    *,
    business: Business,
    amount,
    kind: str,
    ai_transaction: AITransaction | None = None,
    purchase: AICreditPurchase | None = None,
    now: datetime | None = None,
) -> CreditLedgerEntry:
    """Take credits out of the business's balance; never below zero."""
    amount = credits_amount_checked(amount)
    now = now or timezone.now()
    row = lock_balance(business=business)
    if row is None:
        raise InsufficientCredits()
    if row.expires_at is not None and row.expires_at <= now:
        raise CreditsExpired()
    if row.balance < amount:
        raise InsufficientCredits()
    row.balance -= amount
    row.save(update_fields=["balance", "updated_at"])
    return _ledger_write(
        row=row,
        kind=kind,
        amount=-amount,
        transaction=ai_transaction,
        purchase=purchase,
    )


def purchase_create(**fields) -> AICreditPurchase:
    """Create a purchase with a fresh reference, drawing again on the rare collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return AICreditPurchase.objects.create(
                    payment_reference=payment_reference_new(), **fields
                )
        except IntegrityError as exc:
            if "payment_reference" not in str(exc):
                raise
    raise IntegrityError("Could not draw a unique payment reference in 5 tries")


@transaction.atomic
def credits_grant(
    *,
    business: Business,
    credits,
    bonus_credits=Decimal("0"),
    package: str,
    user=None,
) -> AICreditPurchase:
    """Give a business free credits, recorded as a completed, unpaid `admin_grant` purchase."""
    credits = credits_amount_checked(credits)
    bonus_credits = Decimal(bonus_credits)
    now = timezone.now()
    purchase = purchase_create(
        business=business,
        user=user,
        package=package,
        amount_paid=Decimal("0"),
        total_tax=Decimal("0"),
        total_amount=Decimal("0"),
        currency=settings.AI_CREDIT_CURRENCY,
        credits_purchased=credits,
        bonus_credits=bonus_credits,
        payment_status=AICreditPurchase.Status.COMPLETED,
        payment_method=AICreditPurchase.Method.ADMIN_GRANT,
        completed_at=now,
    )
    credits_add(
        business=business,
        amount=purchase.total_credits,
        kind=Kind.GRANT,
        purchase=purchase,
        now=now,
    )
    return purchase


def balance_get(*, business: Business) -> dict:
    """The balance as the API shows it: zero, no expiry and inactive when there are no credits."""
    row = BusinessAICredits.objects.filter(business=business, is_active=True).first()
    if row is None:
        return {"balance": Decimal("0.00"), "expires_at": None, "is_active": False}
    return {
        "balance": row.balance,
        "expires_at": row.expires_at,
        "is_active": row.is_active,
    }


@transaction.atomic
def credits_clawback(*, business: Business, amount: Decimal, purchase: AICreditPurchase) -> Decimal:
    """Take up to `amount` back for a refund, stopping at zero; returns what was taken."""
    amount = credits_amount_checked(amount)
    row = lock_balance(business=business)
    taken = min(amount, row.balance) if row is not None else Decimal("0.00")
    if taken <= 0:
        return Decimal("0.00")
    row.balance -= taken
    row.save(update_fields=["balance", "updated_at"])
    _ledger_write(row=row, kind=Kind.REFUND, amount=-taken, purchase=purchase)
    return taken
