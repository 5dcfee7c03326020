"""Drop the indexes of the usage and ledger tables that nothing reads.

Each feature call writes every index of ai_transactions twice (the hold's insert, then the
settle's update, which cannot be a HOT update since `status` is indexed) and every index of
the ledger once. Four of them were never read: the LIKE copies (`varchar_pattern_ops`) that
`db_index=True` adds on PostgreSQL for `feature` and `status`, and the `business_id` indexes
of both tables, which `transaction_recent` and `ledger_business_recent` lead with. The plain
`feature` and `status` indexes stay, renamed (`transaction_feature`, `transaction_status`) now
that they are declared in Meta.

Deploy: on PostgreSQL every step is a DROP INDEX or ALTER INDEX … RENAME, instant however large
the tables, but each takes the table's lock for that instant. `lock_timeout` makes the migration
give up after 5 seconds instead of queueing every request behind a long transaction; run it
again when that happens. SQLite (development) has no LIKE copies and cannot rename an index:
there the two plain indexes are rebuilt under their new names.
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


def slimmed(apps, schema_editor):
    run = schema_editor.execute
    if _postgres(schema_editor):
        run("SET LOCAL lock_timeout = '5s'")
    for name in DROPPED.values():
        run(f"DROP INDEX IF EXISTS {name}")
    for column, old in RENAMED.items():
        new = f"transaction_{column}"
        if _postgres(schema_editor):
            run(f"DROP INDEX IF EXISTS {old}_like")
            run(f"ALTER INDEX IF EXISTS {old} RENAME TO {new}")
        else:
            run(f"DROP INDEX IF EXISTS {old}")
        run(f"CREATE INDEX IF NOT EXISTS {new} ON ai_transactions ({column})")


def restored(apps, schema_editor):
    run = schema_editor.execute
    for column, old in RENAMED.items():
        new = f"transaction_{column}"
        if _postgres(schema_editor):
            run(f"ALTER INDEX IF EXISTS {new} RENAME TO {old}")
            run(
                f"CREATE INDEX IF NOT EXISTS {old}_like ON ai_transactions ({column} varchar_pattern_ops)"
            )
        else:
            run(f"DROP INDEX IF EXISTS {new}")
        run(f"CREATE INDEX IF NOT EXISTS {old} ON ai_transactions ({column})")
    for table, name in DROPPED.items():
        run(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (business_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_rate_limit_windows"),
        ("ai_features", "0012_gateways_stripe_and_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(slimmed, restored)],
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
