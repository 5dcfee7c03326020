"""The balance and its ledger: every change to a business's balance is made here.

Each change is made on a balance row locked in the caller's transaction (`services.locks`) and
writes its ledger entry in that same transaction, so a business's balance always equals the
sum of its ledger amounts. `credit_locked`, `debit_locked` and `expire_locked` change a row the
caller has locked; `spendable_locked` locks the active row and checks that it can pay;
`credits_spend`, `credits_add`, `credits_clawback` and `credits_expire` lock and change in one
call. The lock order is the one in `services.locks`.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount
from ai_features.models import (
    AICreditPurchase,
    AITransaction,
    BusinessAICredits,
    CreditLedgerEntry,
)
from ai_features.services import alerts
from ai_features.services.locks import lock_balance
from ai_features.services.money import CENT, ZERO

Kind = CreditLedgerEntry.Kind
TOP_UPS = {Kind.PURCHASE, Kind.GRANT}


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


def is_expired(row: BusinessAICredits | None, now: datetime) -> bool:
    return row is not None and row.expires_at is not None and row.expires_at <= now


def _ledger_write(*, row: BusinessAICredits, kind: str, amount: Decimal, **links):
    return CreditLedgerEntry.objects.create(
        business_id=row.business_id, kind=kind, amount=amount, balance_after=row.balance, **links
    )


def expire_locked(*, row: BusinessAICredits) -> CreditLedgerEntry | None:
    """Forfeit a locked, expired balance: the row goes inactive at zero, and the ledger says so."""
    forfeited = row.balance
    row.balance = ZERO
    row.is_active = False
    row.save(update_fields=["balance", "is_active", "updated_at"])
    if not forfeited:  # nothing was lost, so there is nothing to tell the owner
        return None
    alerts.alert_raise(
        business_id=row.business_id, alert_type=alerts.Type.EXPIRED, balance=forfeited
    )
    return _ledger_write(row=row, kind=Kind.EXPIRY, amount=-forfeited)


def credit_locked(*, row: BusinessAICredits, amount: Decimal, kind: str, also_save=(), **links):
    """Add to a locked row. A top-up clears the low-balance alert; a released hold does not."""
    row.balance += amount
    fields = ["balance", "updated_at", *also_save]
    if kind in TOP_UPS and row.balance >= settings.AI_CREDIT_LOW_BALANCE_THRESHOLD:
        row.low_balance_alerted = False
        fields.append("low_balance_alerted")
    row.save(update_fields=fields)
    return _ledger_write(row=row, kind=kind, amount=amount, **links)


def debit_locked(*, row: BusinessAICredits, amount: Decimal, kind: str, **links):
    """Take from a locked row that holds at least `amount`, raising alerts the debit crosses."""
    before = row.balance
    row.balance -= amount
    alerts.alerts_after_debit(row=row, before=before)
    row.save(update_fields=["balance", "low_balance_alerted", "updated_at"])
    return _ledger_write(row=row, kind=kind, amount=-amount, **links)


@transaction.atomic
def credits_spend(
    *, business: Business, user, amount: Decimal, now: datetime, values: dict
) -> AITransaction:
    """Pay `amount` from the balance for a new usage row, or raise why the balance cannot pay."""
    # Lock, check, then write the usage row (`values` are its other fields, by name), the
    # debit and its ledger entry.
    amount = credits_amount_checked(amount)
    row = spendable_locked(business=business, amount=amount, now=now)
    usage = AITransaction.objects.create(business=business, user=user, balance_row=row, **values)
    debit_locked(row=row, amount=amount, kind=Kind.USAGE, usage=usage)
    return usage


def spendable_locked(*, business: Business | int, amount: Decimal, now: datetime):
    """Lock the balance row and check it can pay `amount` now, or raise why it cannot."""
    row = lock_balance(business=business)
    if row is None:
        raise InsufficientCredits()
    if is_expired(row, now):
        raise CreditsExpired()
    if row.balance < amount:
        raise InsufficientCredits()
    return row


@transaction.atomic
def credits_add(
    *,
    business: Business,
    amount,
    kind: str,
    purchase: AICreditPurchase | None = None,
    now: datetime | None = None,
) -> CreditLedgerEntry:
    """Top up the business's balance and restart its expiry clock."""
    amount = credits_amount_checked(amount)
    now = now or timezone.now()
    row = lock_balance(business=business, create=True)
    if is_expired(row, now):
        # A top-up after expiry starts a fresh balance; the old credits are forfeit.
        expire_locked(row=row)
        row = lock_balance(business=business, create=True)
    row.expires_at = credits_expiry_for(now)
    row.is_active = True
    row.purchased_at = row.purchased_at or now
    row.last_topped_up_at = now
    return credit_locked(
        row=row,
        amount=amount,
        kind=kind,
        purchase=purchase,
        also_save=["expires_at", "is_active", "purchased_at", "last_topped_up_at"],
    )


@transaction.atomic
def credits_clawback(*, business: Business, amount: Decimal, purchase: AICreditPurchase) -> Decimal:
    """Take up to `amount` back for a refund, stopping at zero; returns what was taken."""
    amount = credits_amount_checked(amount)
    row = lock_balance(business=business)
    taken = min(amount, row.balance) if row is not None else ZERO
    if taken <= 0:
        return ZERO
    debit_locked(row=row, amount=taken, kind=Kind.REFUND, purchase=purchase)
    return taken


@transaction.atomic
def credits_expire(*, business: Business | int, now: datetime | None = None) -> bool:
    """Apply the expiry of the business's balance if it is due; True if it was."""
    row = lock_balance(business=business)
    if not is_expired(row, now or timezone.now()):
        return False
    expire_locked(row=row)
    return True


def balance_get(*, business: Business) -> dict:
    """The balance as the API shows it: zero, no expiry and inactive when there are no credits."""
    found = (  # the constraint allows one active row at most
        BusinessAICredits.objects.filter(business=business, is_active=True)
        .values_list("balance", "expires_at")
        .first()
    )
    if found is None:
        return {"balance": ZERO, "expires_at": None, "is_active": False}
    balance, expires_at = found
    if expires_at is not None and expires_at <= timezone.now():
        # Past its expiry but not yet forfeited (the cron or the next charge does that): none
        # of it can be spent, so none of it is shown.
        return {"balance": ZERO, "expires_at": expires_at, "is_active": False}
    return {"balance": balance, "expires_at": expires_at, "is_active": True}
