"""Row locks, always taken in one order: the purchase (or usage transaction) row, then the
balance row.

Every function here must run inside `transaction.atomic()`.
"""

import functools
from datetime import datetime
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections

from accounts.models import Business
from ai_features.models import (
    AICreditPurchase,
    AITransaction,
    BusinessAICredits,
    CreditLedgerEntry,
)
from pos.prepared import execute_prepared


def lock_purchase(*, purchase_id: int) -> AICreditPurchase:
    """Lock a purchase row. Take it before any balance row."""
    return AICreditPurchase.objects.select_for_update().get(pk=purchase_id)


def lock_usage(*, usage_id: int) -> AITransaction:
    """Lock a usage transaction (a hold being settled or released). Take it before the balance."""
    return AITransaction.objects.select_for_update().get(pk=usage_id)


def lock_balance_row(*, row_id: int) -> BusinessAICredits:
    """Lock one balance row by id, active or not (a hold goes back to the row it came from)."""
    return BusinessAICredits.objects.select_for_update().get(pk=row_id)


def lock_balance(*, business: Business | int, create: bool = False) -> BusinessAICredits | None:
    """Lock the business's active balance row; with `create`, make it first if there is none.

    The insert is `ON CONFLICT DO NOTHING` against the one-active-row constraint, so two
    first top-ups racing each other end up locking the same row instead of failing.
    """
    business_id = business if isinstance(business, int) else business.pk
    active = BusinessAICredits.objects.select_for_update().filter(
        business_id=business_id, is_active=True
    )
    row = next(iter(active[:1]), None)  # unordered: the constraint allows one row at most
    if row is None and create:
        BusinessAICredits.objects.bulk_create(
            [BusinessAICredits(business_id=business_id, balance=0, is_active=True)],
            ignore_conflicts=True,
        )
    if row is None:
        # A fresh statement sees rows committed since the first one, including a row another
        # transaction created while we waited on the lock of the row it replaced.
        row = next(iter(active[:1]), None)
    return row


# What a spend needs back of the row it debited: which row, and what it holds now.
# (By attname, in the model's field order: what `from_db` takes.)
_DEBITED_FIELDS = [
    field.attname
    for field in BusinessAICredits._meta.concrete_fields
    if field.attname in {"id", "business_id", "balance", "low_balance_alerted"}
]
_DEBITED_COLUMNS = [BusinessAICredits._meta.get_field(name).column for name in _DEBITED_FIELDS]
# One statement that locks the active row and takes `amount` out of it, only if it can pay now:
# the same row lock as `select_for_update`, in one round trip instead of two. The WHERE is
# re-checked against the latest committed row after waiting on a concurrent lock, so no update
# is lost and the balance never goes below zero; `is_expired` is the negation of the last test.
_DEBIT_IF_SPENDABLE = (  # names from the model; every value is a parameter
    f"UPDATE {BusinessAICredits._meta.db_table} SET balance = balance - %s, updated_at = %s "  # noqa: S608
    "WHERE business_id = %s AND is_active AND balance >= %s "
    "AND (expires_at IS NULL OR expires_at > %s) "
    f"RETURNING {', '.join(_DEBITED_COLUMNS)}"
)


# Filled from the UPDATE's new row, not from Python: which row paid, and what it holds now.
_FROM_DEBIT = {
    (AITransaction, "business"): "debited.business_id",
    (AITransaction, "balance_row"): "debited.id",
    (CreditLedgerEntry, "business"): "debited.business_id",
    (CreditLedgerEntry, "balance_after"): "debited.balance",
    (CreditLedgerEntry, "usage"): "used.id",
}
# Supplied by every spend: the time (what auto_now_add would stamp) and the entry's kind and
# amount. The rest of the usage row is the caller's `values`, or the model's defaults.
_SPEND_SUPPLIES = {
    (AITransaction, "timestamp"),
    (CreditLedgerEntry, "created_at"),
    (CreditLedgerEntry, "kind"),
    (CreditLedgerEntry, "amount"),
}
_USAGE = AITransaction._meta
_USAGE_COLUMNS = ", ".join(field.column for field in _USAGE.concrete_fields)


def _insert_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _inserted_from_debit(model) -> str:
    """INSERT … SELECT of one `model` row: its values as parameters, or from the debit."""
    fields = _insert_fields(model)
    columns = ", ".join(field.column for field in fields)
    values = ", ".join(_FROM_DEBIT.get((model, field.name), "%s") for field in fields)
    return f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values}"  # noqa: S608


# The conditional debit above, and in the same statement the usage row it pays for and its
# ledger entry: one round trip for the whole spend. Data-modifying WITH queries all run to
# completion, and when the UPDATE matches nothing the INSERTs select from no row at all.
_DEBIT_FOR_USAGE = (  # names from the models; every value is a parameter
    f"WITH debited AS ({_DEBIT_IF_SPENDABLE}), "  # noqa: S608
    f"used AS ({_inserted_from_debit(AITransaction)} FROM debited RETURNING id), "
    f"entry AS ({_inserted_from_debit(CreditLedgerEntry)} FROM debited, used) "
    f"SELECT debited.*, used.id FROM debited, used"
)


@functools.cache
def _spend_parameters() -> tuple[list, dict]:
    """The keys, in order, of the spend's row parameters, and the model defaults of those a
    spend need not give, prepared once as `objects.create` prepares them (no field of these
    models has a default that varies: a callable one would be an error here)."""
    db = connections[DEFAULT_DB_ALIAS]
    order, defaults = [], {}
    for model in (AITransaction, CreditLedgerEntry):
        for field in _insert_fields(model):
            key = (model, field.attname)
            if (model, field.name) in _FROM_DEBIT:
                continue
            order.append(key)
            if key not in _SPEND_SUPPLIES:
                if field.has_default() and callable(field.default):
                    raise TypeError(f"{key} has a default that varies; give it to the spend")
                defaults[key] = field.get_db_prep_save(field.get_default(), db)
    return order, defaults


# The usage row's fields, in the order `from_db` takes them, as keys of what one spend sent.
_USAGE_KEYS = [(AITransaction, field.attname) for field in _USAGE.concrete_fields]


def lock_balance_debited_for(
    *, business_id: int, amount: Decimal, now: datetime, values: dict
) -> tuple[BusinessAICredits, AITransaction] | None:
    """Lock the business's active row and debit `amount` if it is active, unexpired at `now`
    and holds at least `amount`; in the same statement insert the usage row it pays for (the
    fields `values` gives, by attname; the model's defaults for the rest) and its ledger entry.
    The row after the debit (its id, business, balance and alert flag; the rest deferred) and
    the saved usage row; or None: nothing changed, nothing locked. Inside
    `transaction.atomic()`, like every lock here.

    PostgreSQL only (its values come back as the model's types with no conversion); on any
    other database it answers None, and the caller locks and checks the long way."""
    # The thread's connection itself: each attribute read through the `connection` proxy
    # costs a thread-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return None
    order, defaults = _spend_parameters()
    sent = defaults | {
        (AITransaction, name): _USAGE.get_field(name).get_db_prep_save(value, db)
        for name, value in values.items()
    }
    sent |= {
        (AITransaction, "timestamp"): now,
        (CreditLedgerEntry, "created_at"): now,
        (CreditLedgerEntry, "kind"): CreditLedgerEntry.Kind.USAGE.value,
        (CreditLedgerEntry, "amount"): -amount,
    }
    with db.cursor() as cursor:
        execute_prepared(
            cursor, _DEBIT_FOR_USAGE, [amount, now, business_id, amount, now, *map(sent.get, order)]
        )
        found = cursor.fetchone()
    if found is None:
        return None
    # Only what the statement returned is read back: the usage row is what was sent.
    row = BusinessAICredits.from_db(db.alias, _DEBITED_FIELDS, found[:-1])
    sent[(AITransaction, "id")] = found[-1]
    sent[(AITransaction, "business_id")] = row.business_id
    sent[(AITransaction, "balance_row_id")] = row.pk
    return row, AITransaction.from_db(db.alias, None, [sent[key] for key in _USAGE_KEYS])


@functools.cache
def _settle_at_hold_statement(fields: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{_USAGE.get_field(name).column} = %s" for name in fields)
    return (  # names from the model; every value is a parameter
        f"UPDATE {_USAGE.db_table} SET credits_used = credits_held, {assignments} "  # noqa: S608
        "WHERE id = %s AND status = %s AND credits_held = COALESCE(%s, credits_held) "
        f"RETURNING {_USAGE_COLUMNS}"
    )


def usage_settled_at_hold(
    *, usage_id: int, credits: Decimal | None, values: dict
) -> AITransaction | None:
    """Complete a pending hold whose cost is what it held (`credits`, or None for the hold
    itself), setting `values` (field name: value): the usage row as it is after, or None when
    the hold is no longer pending or costs something else (nothing changed).

    No balance moves when a hold costs what it held, so the only lock is the usage row's, taken
    by this one statement. PostgreSQL only, like `lock_balance_debited_for`: elsewhere it answers
    None and the caller settles the long way."""
    if connection.vendor != "postgresql":
        return None
    fields = tuple(values)
    prepared = [
        _USAGE.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            _settle_at_hold_statement(fields),
            [*prepared, usage_id, AITransaction.UsageStatus.PENDING, credits],
        )
        found = cursor.fetchone()
    return None if found is None else AITransaction.from_db(connection.alias, None, found)
