"""Rate limit windows (accounts.rate_limits), UNLOGGED on PostgreSQL.

A count of recent requests is not worth a WAL flush: with the table unlogged, the commit of a
throttled request's counting statement does not wait for the disk. What it gives up: after a
crash PostgreSQL empties the table (every window starts afresh), and replicas do not have it."""

from django.db import migrations, models


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE api_rate_limit_windows SET UNLOGGED")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_cache_table"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitWindow",
            fields=[
                ("key", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("window_start", models.FloatField(db_index=True)),
                ("hits", models.PositiveIntegerField()),
            ],
            options={
                "db_table": "api_rate_limit_windows",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("hits__gte", 1)), name="rate_limit_hits_positive"
                    )
                ],
            },
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
    ]
