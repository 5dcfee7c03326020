"""`migrate` alone prepares a database that serves (design section 14)."""

import json

from django.conf import settings

from testing.db import real_settings_env, run_python

# Every endpoint with a throttle, on a database that has had `migrate` and nothing else.
PROBE = """
import json
import django
django.setup()
from django.test import Client
client = Client()
answers = {}
register = client.post(
    "/accounts/api/auth/register/",
    {"username": "kofi", "email": "kofi@example.com", "password": "jollof-rice-77",
     "business_name": "Kofi's Kiosk"},
    content_type="application/json",
)
answers["register"] = register.status_code
login = client.post(
    "/accounts/api/auth/token/",
    {"username": "kofi", "password": "jollof-rice-77"},
    content_type="application/json",
)
answers["login"] = login.status_code
auth = {"HTTP_AUTHORIZATION": "Token " + login.json()["token"]}
answers["purchase"] = client.post(
    "/ai/api/credits/purchase/", {"package": "value"}, content_type="application/json", **auth
).status_code
answers["verify"] = client.get(
    "/ai/api/credits/verify/", {"reference": "AI-CREDIT-1-0000abcd"}, **auth
).status_code
print(json.dumps(answers))
"""


def _serve_after_migrate_only(database_url: str) -> dict:
    env = real_settings_env(
        drop=("DJANGO_", "PAYSTACK_", "DATABASE_", "THROTTLE_", "PYTEST"),
        DEBUG="true",
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="testserver",
        PAYSTACK_SECRET_KEY="",
    )
    migrated = run_python(
        "import runpy, sys; sys.argv = ['manage.py', 'migrate', '--noinput', '-v0']; "
        "runpy.run_path('manage.py', run_name='__main__')",
        env,
        timeout=180,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    probed = run_python(PROBE, env, timeout=180)
    assert probed.returncode == 0, probed.stderr[-3000:]
    return json.loads(probed.stdout.strip().splitlines()[-1])


# Without the table each of these was 500. Purchase has no Paystack key here: 503 after the
# throttle; verify of an unknown reference: 404 after the throttle.
EXPECTED = {"register": 201, "login": 200, "purchase": 503, "verify": 404}


def test_migrate_alone_makes_the_cache_table_on_a_fresh_database(fresh_database_url):
    answers = _serve_after_migrate_only(fresh_database_url)

    assert answers == EXPECTED


def test_the_migration_leaves_an_existing_cache_table_alone(db):
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    migration = importlib.import_module("accounts.migrations.0002_cache_table")
    editor = SimpleNamespace(connection=connection)  # all it reads of the schema editor

    migration.create_cache_tables(None, editor)  # the table exists already: nothing happens

    assert settings.CACHES["default"]["LOCATION"] in connection.introspection.table_names()
