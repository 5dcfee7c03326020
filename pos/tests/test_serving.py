"""Production serving: with DEBUG off, after collectstatic, the admin's and the API docs' static
files are served (WhiteNoise, hashed names) by the same WSGI app gunicorn runs."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import re
import django
django.setup()
from django.test import Client
client = Client()
docs = client.get("/api/docs/").content.decode()
admin = client.get("/admin/login/").content.decode()
assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs + admin)
assert any("swagger-ui-bundle" in a for a in assets), assets
assert any("admin/css/base" in a for a in assets), assets
for asset in assets:
    response = client.get(asset)
    assert response.status_code == 200, (asset, response.status_code)
    assert re.search(r"\\.[0-9a-f]{12}\\.", asset), ("not a hashed name", asset)
print("served", len(assets))
"""


def test_static_files_are_served_with_debug_off_after_collectstatic(tmp_path, fresh_database_url):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pos.settings",
        "DEBUG": "false",
        "DJANGO_SECRET_KEY": "serving-test-secret",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": fresh_database_url,
        "ALLOWED_HOSTS": "testserver",
        "SANDBOX": "false",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    collected = subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith("served ")
