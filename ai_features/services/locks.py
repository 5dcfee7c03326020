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
_BALANCES = BusinessAICredits._meta.db_table
# One statement that locks the active row and takes the spend's amount out of it, only if it
# can pay now: the same row lock as `select_for_update`, in one round trip instead of two. The
# WHERE is re-checked against the latest committed row after waiting on a concurrent lock, so
# no update is lost and the balance never goes below zero; `is_expired` is the negation of the
# last test. `spend` is the amount and the time, sent once for every place that uses them.
_DEBIT_IF_SPENDABLE = (  # names from the model; every value is a parameter
    f"UPDATE {_BALANCES} SET balance = balance - spend.amount, updated_at = spend.now "  # noqa: S608
    "FROM spend WHERE business_id = %s AND is_active AND balance >= spend.amount "
    "AND (expires_at IS NULL OR expires_at > spend.now) "
    f"RETURNING {', '.join(f'{_BALANCES}.{column}' for column in _DEBITED_COLUMNS)}"
)
_SPEND = "SELECT CAST(%s AS numeric) AS amount, CAST(%s AS timestamp with time zone) AS now"

# Filled in the statement, not sent: from the debit (which row paid, and what it holds now),
# the spend (what auto_now_add would stamp; the entry takes the amount out) and the usage row.
_IN_STATEMENT = {
    (AITransaction, "business"): "debited.business_id",
    (AITransaction, "balance_row"): "debited.id",
    (AITransaction, "timestamp"): "spend.now",
    (CreditLedgerEntry, "business"): "debited.business_id",
    (CreditLedgerEntry, "balance_after"): "debited.balance",
    (CreditLedgerEntry, "amount"): "-spend.amount",
    (CreditLedgerEntry, "usage"): "used.id",
    (CreditLedgerEntry, "created_at"): "spend.now",
}
# Written into the statement as a constant, like the defaults of the usage fields not given.
_FIXED = {(CreditLedgerEntry, "kind"): CreditLedgerEntry.Kind.USAGE.value}
_USAGE = AITransaction._meta
_USAGE_COLUMNS = ", ".join(field.column for field in _USAGE.concrete_fields)


def _insert_fields(model) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _constant(field, value, db) -> str:
    """`value` as an SQL literal, quoted by the driver as it quotes parameters; `%` doubled,
    since the statement goes through psycopg2's formatting. Left untyped, so the INSERT assigns
    it to its column as it would a parameter: a string too long for it is an error (a CAST
    would cut it short)."""
    return db.ops.compose_sql("%s", [field.get_db_prep_save(value, db)]).replace("%", "%%")


# The usage row's fields by attname, and where each goes in the values `from_db` takes.
_USAGE_FIELDS = {field.attname: field for field in _USAGE.concrete_fields}
_USAGE_AT = {name: position for position, name in enumerate(_USAGE_FIELDS)}
# What the statement fills in on the usage row itself; a caller cannot give these.
_USAGE_FILLED = {_USAGE.pk.attname} | {
    _USAGE.get_field(name).attname for model, name in _IN_STATEMENT if model is AITransaction
}


@functools.cache
def _spend_statement(given: frozenset[str]) -> tuple[str, list, list]:
    """The spend's statement when the caller gives the usage fields `given` (attnames); the
    order their values go in after the amount, the time and the business id; and the usage
    row's values as `from_db` takes them, with the model's defaults where nothing is given.
    The statement depends on which fields are given, since the others are constants in it."""
    refused = given - set(_USAGE_FIELDS) | given & _USAGE_FILLED
    if refused:
        raise TypeError(f"the spend cannot take {sorted(refused)}: unknown, or filled by it")
    db = connections[DEFAULT_DB_ALIAS]
    order = []

    def inserted(model, source: str) -> str:
        columns, values = [], []
        for field in _insert_fields(model):
            key = (model, field.name)
            columns.append(field.column)
            if key in _IN_STATEMENT:
                values.append(_IN_STATEMENT[key])
            elif model is AITransaction and field.attname in given:
                values.append("%s")
                order.append(field.attname)
            elif key in _FIXED:
                values.append(_constant(field, _FIXED[key], db))
            elif field.has_default() and callable(field.default):
                raise TypeError(f"{key} has a default that varies; give it to the spend")
            else:
                values.append(_constant(field, field.get_default(), db))
        return (
            f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM {source}"
        )

    # The conditional debit above, and in the same statement the usage row it pays for and its
    # ledger entry: one round trip for the whole spend. Data-modifying WITH queries all run to
    # completion, and when the UPDATE matches nothing the INSERTs select from no row at all.
    statement = (  # names from the models, constants quoted by the driver; values are parameters
        f"WITH spend AS ({_SPEND}), debited AS ({_DEBIT_IF_SPENDABLE}), "  # noqa: S608
        f"used AS ({inserted(AITransaction, 'debited, spend')} RETURNING id), "
        f"entry AS ({inserted(CreditLedgerEntry, 'debited, used, spend')}) "
        "SELECT debited.*, used.id FROM debited, used"
    )
    # As the model would hold them after a read: Decimal, not the int 0 of `default=0`.
    defaults = [field.to_python(field.get_default()) for field in _USAGE_FIELDS.values()]
    return statement, order, defaults


def lock_balance_debited_for(
    *, business_id: int, amount: Decimal, now: datetime, values: dict
) -> tuple[BusinessAICredits, AITransaction] | None:
    """Lock the business's active row and debit `amount` if it is active, unexpired at `now`
    and holds at least `amount`; in the same statement insert the usage row it pays for (the
    fields `values` gives, by attname; the model's defaults for the rest) and its ledger entry.
    The row after the debit (its id, business, balance and alert flag; the rest deferred) and
    the saved usage row; or None: nothing changed, nothing locked. Inside
    `transaction.atomic()`, like every lock here.

    PostgreSQL only (data-modifying WITH queries, UPDATE … FROM, and values read back with no
    conversion); on any other database it answers None, and the caller locks and checks the
    long way."""
    # The thread's connection itself: each attribute read through the `connection` proxy
    # costs a thread-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return None
    statement, order, defaults = _spend_statement(frozenset(values))
    prepared = {
        name: _USAGE_FIELDS[name].get_db_prep_save(value, db) for name, value in values.items()
    }
    with db.cursor() as cursor:
        execute_prepared(
            cursor, statement, [amount, now, business_id, *(prepared[name] for name in order)]
        )
        found = cursor.fetchone()
    if found is None:
        return None
    # Back come the debited row's id, business, balance and alert flag, and the usage id; the
    # usage row is built from what was sent, positionally as `from_db` builds instances (a third
    # of the CPU of building one from keywords).
    row = BusinessAICredits.from_db(db.alias, _DEBITED_FIELDS, found[:-1])
    usage = defaults.copy()
    for name, value in values.items():
        usage[_USAGE_AT[name]] = value
    usage[_USAGE_AT["id"]], usage[_USAGE_AT["business_id"]] = found[-1], row.business_id
    usage[_USAGE_AT["balance_row_id"]], usage[_USAGE_AT["timestamp"]] = row.pk, now
    return row, AITransaction.from_db(db.alias, None, usage)


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
