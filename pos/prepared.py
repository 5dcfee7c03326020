"""Server-side prepared statements for the hot statements whose planning costs PostgreSQL
about as much as running them: authentication, the throttle count, the balance read, the
spend and the settle.

psycopg2 sends every statement as text, so PostgreSQL parses, analyses and plans it afresh
each time: for the spend and the settle 0.4–0.7 ms of PostgreSQL's CPU per feature call, for a
balance GET's three statements about 1 ms. Here each such statement is `PREPARE`d once per
database connection and then run with `EXECUTE name(…)`: same parameters, same results, same
transaction.

A prepared statement belongs to the database session, and `PREPARE` is not undone by a
rollback, so what was prepared is remembered per connection (a reconnect starts afresh).
PostgreSQL replans a prepared statement when a table under it changes, but fails one whose
result columns changed type, precision or length, or whose parameters no longer fit their
columns (a migration while serving), and one that the session lost (`DEALLOCATE ALL`,
`DISCARD ALL`). Such an error makes this module forget what it prepared there and marks the
connection to be closed when its request ends: one request fails, not every request for the
connection's remaining CONN_MAX_AGE.

Off (`DATABASE_PREPARED_STATEMENTS=false`) behind a pooler that shares server sessions between
clients per transaction (PgBouncer's transaction mode): there a statement prepared on one
server session is not on the next. Off, or on another database, a statement runs as plain text.
"""

import functools
import hashlib
import re

from django.conf import settings
from django.db import DatabaseError

_PLACEHOLDER = re.compile(r"%s|%%")
# The errors that say a prepared statement no longer fits its session.
STALE = {
    "0A000",  # feature_not_supported: "cached plan must not change result type"
    "42804",  # datatype_mismatch: a parameter's column changed type
    "26000",  # invalid_sql_statement_name: "prepared statement … does not exist"
    "42P05",  # duplicate_prepared_statement: prepared by someone else on this session
}


@functools.cache
def _prepare_text(sql: str) -> tuple[str, str]:
    """The statement's name (from its text, so one text is one statement) and its PREPARE."""
    name = "pos_" + hashlib.sha256(sql.encode()).hexdigest()[:20]
    numbers = iter(range(1, sql.count("%s") + 1))
    body = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
    # PREPARE's own text goes to psycopg2 with no parameters, so nothing in it is interpolated.
    return name, f"PREPARE {name} AS {body}"


@functools.cache
def _execute_text(name: str, count: int) -> str:
    return f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"


def execute_prepared(cursor, sql: str, params: list) -> None:
    """Run `sql` (psycopg2's `%s` placeholders) on `cursor`, as a statement prepared on the
    cursor's connection when that is PostgreSQL and prepared statements are on."""
    db = cursor.db
    if db.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    name, prepare = _prepare_text(sql)
    prepared = _prepared_on(db)
    try:
        if name not in prepared:
            cursor.execute(prepare)
            prepared.add(name)
        cursor.execute(_execute_text(name, len(params)), params)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) in STALE:
            prepared.clear()
            db.close_at = 0  # Django closes it at the end of the request (CONN_MAX_AGE's check)
        raise


def _prepared_on(db) -> set[str]:
    """The names prepared on `db`'s current server session."""
    raw = db.connection
    known = getattr(db, "_pos_prepared", None)
    if known is None or known[0] is not raw:
        known = (raw, set())
        db._pos_prepared = known
    return known[1]
