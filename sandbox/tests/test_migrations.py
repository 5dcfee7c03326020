"""The sandbox starts its migrations afresh; one of them drops what `paystack_sandbox`, its old
name, left behind."""

import importlib

from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

drop = importlib.import_module("sandbox.migrations.0002_drop_paystack_sandbox")


def tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def test_the_old_apps_tables_and_migration_rows_are_dropped(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE paystack_sandbox_sandboxtransaction (id bigint PRIMARY KEY)")
        cursor.execute(
            "CREATE TABLE paystack_sandbox_sandboxrefund (id bigint PRIMARY KEY, transaction_id "
            "bigint REFERENCES paystack_sandbox_sandboxtransaction (id))"
        )
    recorder = MigrationRecorder(connection)
    recorder.record_applied("paystack_sandbox", "0001_initial")
    recorder.record_applied("paystack_sandbox", "0005_sandbox_disputes")

    with connection.schema_editor() as schema_editor:
        drop.drop_paystack_sandbox(apps, schema_editor)

    assert not {t for t in tables() if t.startswith("paystack_sandbox_")}
    assert not recorder.migration_qs.filter(app="paystack_sandbox").exists()
    assert {"sandbox_sandboxtransaction", "sandbox_stripesandboxcharge"} <= tables()
    assert recorder.migration_qs.filter(app="sandbox", name="0002_drop_paystack_sandbox").exists()


def test_on_a_database_that_never_had_them_it_does_nothing(db):
    before = tables()

    with connection.schema_editor() as schema_editor:
        drop.drop_paystack_sandbox(apps, schema_editor)

    assert tables() == before
