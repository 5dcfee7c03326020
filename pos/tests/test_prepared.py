"""Statements prepared once per PostgreSQL session (pos/prepared.py): the same results as the
plain statement, prepared once per connection, kept across a rollback, prepared afresh after a
reconnect, and plain text when turned off."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from pos.prepared import execute_prepared

ECHO = "SELECT %s::numeric + 1, %s::timestamptz, %s::text, '100%%' || %s::text"
PARAMS = [Decimal("2.50"), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None, "it's 5% off"]
ROW = (Decimal("3.50"), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None, "100%it's 5% off")


def run(sql: str = ECHO, params=None) -> tuple[tuple, list[str]]:
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        execute_prepared(cursor, sql, PARAMS if params is None else params)
        row = cursor.fetchone()
    return row, [q["sql"].split()[0] for q in queries.captured_queries]


def prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_answer_is_the_plain_statements_prepared_once_per_connection():
    with connection.cursor() as cursor:
        cursor.execute(ECHO, PARAMS)
        plain = cursor.fetchone()

    first, first_sql = run()
    again, again_sql = run()

    assert plain == first == again == ROW
    assert first_sql == ["PREPARE", "EXECUTE"]
    assert again_sql == ["EXECUTE"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_with_no_parameters_and_another_text_are_prepared_apart():
    assert run("SELECT 7", [])[0] == (7,)
    assert run("SELECT 8", [])[0] == (8,)
    assert run("SELECT 7", []) == ((7,), ["EXECUTE"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rollback_keeps_what_was_prepared():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        run()
        raise ZeroDivisionError

    assert run() == (ROW, ["EXECUTE"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    run()
    connection.close()

    assert run() == (ROW, ["PREPARE", "EXECUTE"])


@pytest.mark.postgres
@pytest.mark.django_db
def test_turned_off_it_runs_the_plain_text(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = prepared_names()

    row, sql = run("SELECT %s::int * 3", [5])

    assert (row, sql) == ((15,), ["SELECT"])
    assert prepared_names() == before


def test_another_database_runs_the_plain_text():
    class Cursor:
        db = SimpleNamespace(vendor="sqlite")
        ran = None

        def execute(self, sql, params=None):
            self.ran = (sql, params)

    cursor = Cursor()
    execute_prepared(cursor, "SELECT %s", [1])

    assert cursor.ran == ("SELECT %s", [1])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_column_changing_type_under_a_prepared_statement_replaces_the_connection():
    """A migration that changes a returned column's type while serving: PostgreSQL refuses the
    old plan; the connection is closed at the end of the request, and the next one prepares
    afresh."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (amount integer)")
        cursor.execute("INSERT INTO prepared_probe VALUES (7)")
    try:
        assert run("SELECT amount FROM prepared_probe", [])[0] == (7,)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE prepared_probe ALTER amount TYPE numeric(12, 2)")

        with pytest.raises(DatabaseError, match="must not change result type"):
            run("SELECT amount FROM prepared_probe", [])
        connection.close_if_unusable_or_obsolete()  # what Django does when a request ends

        assert connection.connection is None
        assert run("SELECT amount FROM prepared_probe", []) == (
            (Decimal("7.00"),),
            ["PREPARE", "EXECUTE"],
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_probe")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_that_lost_its_statements_is_replaced():
    run()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would

    with pytest.raises(DatabaseError, match="does not exist"):
        run()
    connection.close_if_unusable_or_obsolete()

    assert connection.connection is None
    assert run() == (ROW, ["PREPARE", "EXECUTE"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_keeps_its_connection():
    """A constraint or data error is the statement's own: the connection stays."""
    run()
    with pytest.raises(DatabaseError, match="division by zero"):
        run("SELECT 1 / %s::int", [0])
    connection.close_if_unusable_or_obsolete()

    assert connection.connection is not None
    assert run() == (ROW, ["EXECUTE"])
