"""The balance and its ledger: every change to a business's balance is made here.

Each change is made on a balance row locked in the caller's transaction (`credits.locks`) and
writes its ledger entry in that same transaction, so a business's balance always equals the
sum of its ledger amounts. The `*_locked` functions change a row the caller has locked;
`credits_spend`, `credits_add` and `credits_expire` lock and change in one call. The lock order
is the one in `credits.locks`.

A row also keeps what its pending holds have on hold (`held`) and how much of that open refunds
and disputes have reserved (`clawback_reserved`, design section 7 rule 5): a hold that comes
back pays the reserve first (`reserve_pay_locked`), and reserve that no pending hold can pay
any more becomes shortfall (`reserve_shrink_locked`).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Business
from ai_features.credits import alerts
from ai_features.credits.locks import lock_balance
from ai_features.credits.money import ZERO, money_parse
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount
from ai_features.models import (
    AICreditPurchase,
    AITransaction,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
)

Kind = CreditLedgerEntry.Kind
TOP_UPS = {Kind.PURCHASE, Kind.GRANT, Kind.DISPUTE_RETURN}
# What a row's save writes after a hold, settle or release changed it.
HOLD_FIELDS = ["balance", "held", "clawback_reserved", "low_balance_alerted", "updated_at"]


def credits_amount_checked(amount) -> Decimal:
    """A positive amount with at most two places, read by `money_parse` (no float, no `1_000`,
    no exponent); anything else is refused, never rounded."""
    try:
        value = money_parse(amount)
    except ValueError as exc:
        raise InvalidAmount() from exc
    if value <= 0:
        raise InvalidAmount()
    return value


def credits_expiry_for(moment: datetime) -> datetime:
    """When credits topped up at `moment` expire (7 Nov 2025 -> 6 May 2026 with 180 days)."""
    return moment + timedelta(days=settings.AI_CREDIT_EXPIRY_DAYS)


def is_expired(row: BusinessAICredits | None, now: datetime) -> bool:
    """True when `row` has an expiry and it has come by `now`."""
    return row is not None and row.expires_at is not None and row.expires_at <= now


def ledger_write(*, row: BusinessAICredits, kind: str, amount: Decimal, **links):
    """Record a change already made to `row`: its amount and the balance after it."""
    return CreditLedgerEntry.objects.create(
        business_id=row.business_id, kind=kind, amount=amount, balance_after=row.balance, **links
    )


def expire_locked(*, row: BusinessAICredits) -> CreditLedgerEntry | None:
    """Forfeit a locked, expired balance: the row goes inactive at zero, and the ledger says so.

    Holds still pending on it return nothing when released, so the reserve they were to pay
    becomes shortfall."""
    forfeited = row.balance
    row.balance = ZERO
    row.is_active = False
    reserve_forfeit_locked(row=row)
    row.save(update_fields=["balance", "is_active", "clawback_reserved", "updated_at"])
    if not forfeited:  # nothing was lost, so there is nothing to tell the owner
        return None
    alerts.alert_raise(
        business_id=row.business_id, alert_type=alerts.Type.EXPIRED, balance=forfeited
    )
    return ledger_write(row=row, kind=Kind.EXPIRY, amount=-forfeited)


def credit_locked(*, row: BusinessAICredits, amount: Decimal, kind: str, also_save=(), **links):
    """Add to a locked row. A top-up clears the low-balance alert; a released hold does not."""
    row.balance += amount
    fields = ["balance", "updated_at", *also_save]
    if kind in TOP_UPS and row.balance >= settings.AI_CREDIT_LOW_BALANCE_THRESHOLD:
        row.low_balance_alerted = False
        fields.append("low_balance_alerted")
    row.save(update_fields=fields)
    return ledger_write(row=row, kind=kind, amount=amount, **links)


def debit_locked(*, row: BusinessAICredits, amount: Decimal, kind: str, also_save=(), **links):
    """Take from a locked row that holds at least `amount`, raising alerts the debit crosses."""
    entry = debit_unsaved(row=row, amount=amount, kind=kind, **links)
    row.save(update_fields=["balance", "low_balance_alerted", "updated_at", *also_save])
    return entry


def debit_unsaved(*, row: BusinessAICredits, amount: Decimal, kind: str, **links):
    """`debit_locked` without the row's save: for a change that saves the row once at its end."""
    before = row.balance
    row.balance -= amount
    alerts.alerts_after_debit(row=row, before=before)
    return ledger_write(row=row, kind=kind, amount=-amount, **links)


def hold_return_unsaved(*, row: BusinessAICredits, amount: Decimal, usage: AITransaction):
    """Credits a hold gives back to its locked, active row: they pay the open reserve first,
    and only the rest stays in the balance. The caller saves the row (`HOLD_FIELDS`)."""
    row.balance += amount
    ledger_write(row=row, kind=Kind.USAGE_RELEASE, amount=amount, usage=usage)
    reserve_pay_locked(row=row, amount=amount, usage=usage)


def _reserves_open(row: BusinessAICredits) -> list[CreditClawback]:
    """Lock the claims with an open reserve on `row`, oldest first (after the row)."""
    return list(
        CreditClawback.objects.select_for_update()
        .filter(balance_row=row, reserved__gt=0)
        .order_by("id")
    )


def reserve_pay_locked(*, row: BusinessAICredits, amount: Decimal, usage: AITransaction):
    """Pay open reserves of a locked row, oldest first, out of `amount` that a hold just gave
    back to its balance: each payment is taken again, as its claim's kind (`refund` or
    `dispute`). No alerts: the shop's balance does not drop by it. The caller saves the row."""
    left = min(amount, row.clawback_reserved)
    if left <= 0:
        return
    for claim in _reserves_open(row):
        paid = min(left, claim.reserved)
        claim.reserved -= paid
        claim.taken += paid
        claim.save(update_fields=["reserved", "taken"])
        row.clawback_reserved -= paid
        row.balance -= paid
        ledger_write(
            row=row,
            kind=claim.kind,
            amount=-paid,
            purchase_id=claim.purchase_id,
            usage=usage,
            clawback=claim,
        )
        left -= paid
        if left <= 0:
            return


def reserve_shrink_locked(*, row: BusinessAICredits) -> None:
    """Reserve beyond what a locked row still has on hold can never be paid (a hold settled:
    those credits were spent), so it becomes shortfall, oldest claim first. The caller saves."""
    excess = row.clawback_reserved - row.held
    if excess <= 0:
        return
    for claim in _reserves_open(row):
        part = min(excess, claim.reserved)
        claim.reserved -= part
        claim.shortfall += part
        claim.save(update_fields=["reserved", "shortfall"])
        row.clawback_reserved -= part
        excess -= part
        if excess <= 0:
            return


def reserve_forfeit_locked(*, row: BusinessAICredits) -> None:
    """Every open reserve of a locked row becomes shortfall (the row expired). The caller saves."""
    if not row.clawback_reserved:
        return
    for claim in _reserves_open(row):
        claim.shortfall += claim.reserved
        claim.reserved = ZERO
        claim.save(update_fields=["reserved", "shortfall"])
    row.clawback_reserved = ZERO


@transaction.atomic
def credits_spend(
    *, business: Business, user, amount: Decimal, now: datetime, held: bool, values: dict
) -> AITransaction:
    """Pay `amount` from the balance for a new usage row (a hold when `held`), or raise why
    the balance cannot pay."""
    # Lock, check, then write the usage row (`values` are its other fields, by name), the
    # debit and its ledger entry.
    amount = credits_amount_checked(amount)
    row = spendable_locked(business=business, amount=amount, now=now)
    usage = AITransaction.objects.create(business=business, user=user, balance_row=row, **values)
    if held:
        row.held += amount
    debit_locked(row=row, amount=amount, kind=Kind.USAGE, usage=usage, also_save=["held"])
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
def credits_expire(*, business: Business | int, now: datetime | None = None) -> bool:
    """Apply the expiry of the business's balance if it is due; True if it was."""
    row = lock_balance(business=business)
    if not is_expired(row, now or timezone.now()):
        return False
    expire_locked(row=row)
    return True


def balance_get(*, business: Business) -> dict:
    """The balance as the API shows it: its active row, else the date its last credits expired."""
    # One query: the active row (the constraint allows one at most) comes first; without one,
    # the row that expired last, so the owner still sees when (design section 8).
    row = (
        BusinessAICredits.objects.filter(business=business)
        .order_by("-is_active", F("expires_at").desc(nulls_last=True), "-id")
        .only("balance", "expires_at", "is_active")
        .first()
    )
    return balance_shown(row=row)


def businesses_with_balances(businesses: QuerySet[Business]) -> QuerySet[Business]:
    """`businesses` with the row `balance_get` would show for each, in the same one query
    (`shown_balance`, `shown_expires_at`, `shown_is_active`; None: it never had credits);
    `balance_shown(row=business_balance_row(business))` then answers as `balance_get` does."""
    shown = BusinessAICredits.objects.filter(business=OuterRef("pk")).order_by(
        "-is_active", F("expires_at").desc(nulls_last=True), "-id"
    )
    return businesses.annotate(
        shown_balance=Subquery(shown.values("balance")[:1]),
        shown_expires_at=Subquery(shown.values("expires_at")[:1]),
        shown_is_active=Subquery(shown.values("is_active")[:1]),
    )


def business_balance_row(business: Business) -> BusinessAICredits | None:
    """The balance row of a business from `businesses_with_balances`, unsaved, or None."""
    if business.shown_is_active is None:
        return None
    return BusinessAICredits(
        business=business,
        balance=business.shown_balance,
        expires_at=business.shown_expires_at,
        is_active=business.shown_is_active,
    )


def balance_shown(*, row: BusinessAICredits | None) -> dict:
    """What `balance_get` shows for `row`: the business's active row, else its last expired one."""
    if row is None:  # it never had credits
        return {"balance": ZERO, "expires_at": None, "is_active": False}
    if not row.is_active:  # expired rows stay inactive at zero (design section 6)
        return {"balance": ZERO, "expires_at": row.expires_at, "is_active": False}
    if row.expires_at is not None and row.expires_at <= timezone.now():
        # Past its expiry but not yet forfeited (the cron or the next charge does that): none
        # of it can be spent, so none of it is shown.
        return {"balance": ZERO, "expires_at": row.expires_at, "is_active": False}
    return {"balance": row.balance, "expires_at": row.expires_at, "is_active": True}
