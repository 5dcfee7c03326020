"""The database cache table (settings.CACHES), which the throttles counted in until 0003.

Without it a database that only had `migrate` answered 500 on register, login, purchase and
verify. `createcachetable` does the work: it makes every database cache table settings name and
skips those that exist, so this is safe on a database where someone already ran it."""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    # Kept on reversal: the cache is not this app's data, and other code may still count in it.
    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
