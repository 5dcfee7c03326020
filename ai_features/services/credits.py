"""The billing core: every balance change goes through the functions of this module.

Each one locks the balance row and writes the ledger entry in the same transaction, so a
business's balance always equals the sum of its ledger amounts. `credit_locked`, `debit_locked`
and `expire_locked` work on a row the caller has already locked inside `transaction.atomic()`;
`spendable_locked` and `usage_paid` take that lock themselves.
"""

import functools
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
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
from ai_features.services.locks import lock_balance, lock_balance_debited_for
from ai_features.services.money import CENT, ZERO
from pos.prepared import execute_prepared

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


@functools.cache
def _insert_statement(model) -> tuple[str, list]:
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}", fields  # noqa: S608


def row_insert(instance):
    """Insert a new model instance as `Model.objects.create` would (the same per-field
    preparation, defaults and auto_now_add), without building the query each time: the hot
    path's usage and ledger rows. These models have no save signals or overridden save()."""
    sql, fields = _insert_statement(type(instance))
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def _ledger_write(*, row: BusinessAICredits, kind: str, amount: Decimal, **links):
    return row_insert(
        CreditLedgerEntry(
            business_id=row.business_id,
            kind=kind,
            amount=amount,
            balance_after=row.balance,
            **links,
        )
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


def usage_paid(
    *, business: Business, user, amount: Decimal, now: datetime, values: dict
) -> AITransaction:
    """Pay `amount` from the business's balance for a new usage row by `user` (with `values`,
    by field attname), or raise why the balance cannot pay now; the usage row and its ledger
    entry are saved with the debit, and the saved usage row is returned.

    The hot path of every spend: one statement locks and debits the row if it can pay (design
    section 7, rule 1) and inserts both rows; then the alerts the debit crosses are raised as
    `debit_locked` does. When that statement finds nothing to debit, the row is locked and
    checked the long way, which raises `CreditsExpired` or `InsufficientCredits` (or debits,
    if a top-up landed in between). Inside the caller's `transaction.atomic()`."""
    # The statement takes the amount as it is from the balance and into the ledger, where a
    # third decimal place would round differently: only whole cents may reach it.
    amount = credits_amount_checked(amount)
    user_id = None if user is None else user.pk
    spent = lock_balance_debited_for(
        business_id=business.pk, amount=amount, now=now, values={"user_id": user_id, **values}
    )
    if spent is None:
        row = spendable_locked(business=business, amount=amount, now=now)
        usage = row_insert(AITransaction(business=business, user=user, balance_row=row, **values))
        debit_locked(row=row, amount=amount, kind=Kind.USAGE, usage=usage)
        return usage
    row, usage = spent
    alerted = row.low_balance_alerted
    alerts.alerts_after_debit(row=row, before=row.balance + amount)
    if row.low_balance_alerted != alerted:  # only on the debit that crosses the threshold
        row.save(update_fields=["low_balance_alerted"])
    # As the long way leaves it: the business, the user and the row that paid, at hand.
    usage.business, usage.user, usage.balance_row = business, user, row
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
    # Read on every page of the app: one plain statement, no ORM query to build. The constraint
    # allows one active row at most. (SQLite, for development, returns other types: the ORM.)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            execute_prepared(cursor, _BALANCE_READ, [business.pk])
            found = cursor.fetchone()
    else:
        found = (
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


# The model's table name; the id is a parameter.
_BALANCE_READ = (
    f"SELECT balance, expires_at FROM {BusinessAICredits._meta.db_table} "  # noqa: S608
    "WHERE business_id = %s AND is_active LIMIT 1"
)
