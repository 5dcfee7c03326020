"""`migrate` alone prepares a database that serves (design section 14)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

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


def _serve_after_migrate_only(database_url: str, tmp_path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PAYSTACK_", "DATABASE_", "THROTTLE_", "PYTEST"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pos.settings",
        DEBUG="true",
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="testserver",
        PAYSTACK_SECRET_KEY="",
    )
    for command in (
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        [sys.executable, "-c", PROBE],
    ):
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# Without the table each of these was 500. Purchase has no Paystack key here: 503 after the
# throttle; verify of an unknown reference: 404 after the throttle.
EXPECTED = {"register": 201, "login": 200, "purchase": 503, "verify": 404}


def test_migrate_alone_makes_the_cache_table_on_a_fresh_database(fresh_database_url, tmp_path):
    answers = _serve_after_migrate_only(fresh_database_url, tmp_path)

    assert answers == EXPECTED


def test_the_migration_leaves_an_existing_cache_table_alone(db):
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    migration = importlib.import_module("accounts.migrations.0002_cache_table")
    editor = SimpleNamespace(connection=connection)  # all it reads of the schema editor

    migration.create_cache_tables(None, editor)  # the table exists already: nothing happens

    assert settings.CACHES["default"]["LOCATION"] in connection.introspection.table_names()
