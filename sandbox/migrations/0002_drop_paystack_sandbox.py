"""The sandbox was the `paystack_sandbox` app: its data is development-only, so this app starts
afresh and drops what that one left, its tables and its migration rows. On a database that never
had them (a fresh one, or production, where the sandbox was never installed) it does nothing."""

from django.db import migrations

OLD_APP = "paystack_sandbox"


def drop_paystack_sandbox(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    for table in sorted(t for t in tables if t.startswith(f"{OLD_APP}_")):
        schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)} CASCADE")
    schema_editor.execute("DELETE FROM django_migrations WHERE app = %s", [OLD_APP])


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_initial")]

    operations = [
        migrations.RunPython(drop_paystack_sandbox, migrations.RunPython.noop, elidable=True),
    ]
