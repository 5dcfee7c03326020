"""Databases and processes of a test's own: a fresh database on the test server, and a fresh
interpreter under the real settings."""

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
from django.conf import settings
from psycopg2 import sql

ROOT = Path(settings.BASE_DIR)


def database_url(name: str) -> str:
    """The URL of database `name` on the test server (the one DATABASE_URL names), for a server
    process of a test's own (a socket folder as host is percent-encoded, as scripts/devdb writes
    it)."""
    server = settings.DATABASES["default"]
    host = server["HOST"] or ""
    host = quote(host, safe="") if host.startswith("/") else f"[{host}]" if ":" in host else host
    login = quote(server["USER"] or "", safe="")
    if server["PASSWORD"]:
        login += ":" + quote(server["PASSWORD"], safe="")
    return f"postgres://{login}@{host}:{server['PORT'] or 5432}/{name}"


def _maintenance(statement: sql.Composable) -> None:
    """Run one statement on the test server's `postgres` database, outside a transaction (CREATE
    and DROP DATABASE refuse to run inside one)."""
    server = settings.DATABASES["default"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=server["USER"],
        password=server["PASSWORD"],
        host=server["HOST"],
        port=server["PORT"] or 5432,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()


@contextlib.contextmanager
def fresh_database(purpose: str):
    """A new, empty database on the test server for a test that starts a server process of its
    own: yields its URL, and drops it afterwards, closing whatever connections are left to it
    (WITH (FORCE), PostgreSQL 13 and later)."""
    name = f"test_{purpose}_{uuid.uuid4().hex[:12]}"[:63]
    _maintenance(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(name)
    finally:
        _maintenance(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def real_settings_env(*, drop=(), **extra) -> dict:
    """An environment for a subprocess under the real settings (pos.settings): this process's,
    less the variables whose names start with one of `drop`, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(tuple(drop))}
    return {**kept, "DJANGO_SETTINGS_MODULE": "pos.settings", **extra}


def run_python(code: str, env: dict, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter at the project's root, as a server start would."""
    return subprocess.run(  # noqa: S603 (the tests' own code, run as the project's Python)
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
