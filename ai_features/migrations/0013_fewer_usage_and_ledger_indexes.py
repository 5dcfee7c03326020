"""Drop the indexes of the usage and ledger tables that nothing reads.

Each feature call writes every index of ai_transactions twice (the hold's insert, then the
settle's update, which cannot be a HOT update since `status` is indexed) and every index of
the ledger once. Four of them were never read: the LIKE copies (`varchar_pattern_ops`) that
`db_index=True` adds on PostgreSQL for `feature` and `status`, and the `business_id` indexes
of both tables, which `transaction_recent` and `ledger_business_recent` lead with. The plain
`feature` and `status` indexes stay, renamed (`transaction_feature`, `transaction_status`) now
that they are declared in Meta.

Deploy: the migration is not atomic. On PostgreSQL each index is dropped (or, undoing it,
built) CONCURRENTLY, which never blocks the table's reads or writes, only waits for the
transactions already using it; a rename takes a lock that does not block them either. Each step
is IF [NOT] EXISTS, so a migration stopped halfway can simply be run again (a CREATE INDEX
CONCURRENTLY that failed leaves an INVALID index of that name: drop it first). SQLite (development)
has no LIKE copies and cannot rename an index: there the two plain indexes are rebuilt under
their new names. Inside a transaction (a test), the same steps run without CONCURRENTLY.
"""

from django.db import migrations, models

# The names Django gave these indexes (derived from table and column, the same everywhere).
RENAMED = {
    "feature": "ai_features_aitransaction_feature_c94c7bd2",
    "status": "ai_features_aitransaction_status_bc8dd85c",
}
DROPPED = {
    "ai_transactions": "ai_features_aitransaction_business_id_abf0686a",
    "ai_features_creditledgerentry": "ai_features_creditledgerentry_business_id_94bde5af",
}


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _concurrently(schema_editor) -> str:
    """CONCURRENTLY where PostgreSQL allows it: not inside a transaction block."""
    in_transaction = schema_editor.connection.in_atomic_block
    return "CONCURRENTLY " if _postgres(schema_editor) and not in_transaction else ""


def slimmed(apps, schema_editor):
    run, concurrently = schema_editor.execute, _concurrently(schema_editor)
    for name in DROPPED.values():
        run(f"DROP INDEX {concurrently}IF EXISTS {name}")
    for column, old in RENAMED.items():
        new = f"transaction_{column}"
        if _postgres(schema_editor):
            run(f"DROP INDEX {concurrently}IF EXISTS {old}_like")
            run(f"ALTER INDEX IF EXISTS {old} RENAME TO {new}")
        else:
            run(f"DROP INDEX IF EXISTS {old}")
        run(f"CREATE INDEX {concurrently}IF NOT EXISTS {new} ON ai_transactions ({column})")


def restored(apps, schema_editor):
    run, concurrently = schema_editor.execute, _concurrently(schema_editor)
    for column, old in RENAMED.items():
        new = f"transaction_{column}"
        if _postgres(schema_editor):
            run(f"ALTER INDEX IF EXISTS {new} RENAME TO {old}")
            like = f"{column} varchar_pattern_ops"
            run(f"CREATE INDEX {concurrently}IF NOT EXISTS {old}_like ON ai_transactions ({like})")
        else:
            run(f"DROP INDEX IF EXISTS {new}")
        run(f"CREATE INDEX {concurrently}IF NOT EXISTS {old} ON ai_transactions ({column})")
    for table, name in DROPPED.items():
        run(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {table} (business_id)")


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("accounts", "0003_rate_limit_windows"),
        ("ai_features", "0012_gateways_stripe_and_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(slimmed, restored, atomic=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="aitransaction",
                    name="business",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="ai_transactions",
                        to="accounts.business",
                    ),
                ),
                migrations.AlterField(
                    model_name="aitransaction",
                    name="feature",
                    field=models.CharField(max_length=50),
                ),
                migrations.AlterField(
                    model_name="aitransaction",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("pending", "Pending (credits on hold)"),
                            ("completed", "Completed"),
                            ("released", "Released (hold returned)"),
                        ],
                        default="completed",
                        max_length=10,
                    ),
                ),
                migrations.AlterField(
                    model_name="creditledgerentry",
                    name="business",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="ai_ledger",
                        to="accounts.business",
                    ),
                ),
                migrations.AddIndex(
                    model_name="aitransaction",
                    index=models.Index(fields=["feature"], name="transaction_feature"),
                ),
                migrations.AddIndex(
                    model_name="aitransaction",
                    index=models.Index(fields=["status"], name="transaction_status"),
                ),
            ],
        )
    ]
