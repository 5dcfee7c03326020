import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from pos.settings import parse_taxes

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    """Import the real settings in a fresh interpreter, as a server start would."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "DEBUG"}}
    clean.update(DJANGO_SETTINGS_MODULE="pos.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_fails_without_a_secret_key_when_debug_is_off():
    # An empty value also shadows any DJANGO_SECRET_KEY a developer's .env may hold.
    result = start_django(DEBUG="false", DJANGO_SECRET_KEY="")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_start_up_succeeds_with_a_secret_key():
    result = start_django(DEBUG="false", DJANGO_SECRET_KEY="a-real-secret-from-the-vault")

    assert result.returncode == 0, result.stderr


def test_debug_may_run_without_a_secret_key():
    result = start_django(DEBUG="true", DJANGO_SECRET_KEY="")

    assert result.returncode == 0, result.stderr


def test_taxes_parse_into_named_decimal_rates():
    assert parse_taxes("VAT:12.5, NHIL:2.5,GETFund:2.5") == [
        ("VAT", Decimal("12.5")),
        ("NHIL", Decimal("2.5")),
        ("GETFund", Decimal("2.5")),
    ]
    assert parse_taxes("") == []


@pytest.mark.parametrize("spec", ["VAT", "VAT:abc", ":12"])
def test_malformed_taxes_refuse_to_start(spec):
    with pytest.raises(ImproperlyConfigured):
        parse_taxes(spec)


def test_a_frontend_url_with_a_path_gives_an_origin_for_cors():
    # Regression: FRONTEND_URL=http://127.0.0.1:8000/demo made CORS_ALLOWED_ORIGINS hold a path,
    # which django-cors-headers refuses at start-up.
    result = start_django(
        DEBUG="true", FRONTEND_URL="http://127.0.0.1:8000/demo", DJANGO_SECRET_KEY=""
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "FRONTEND_URL": "http://127.0.0.1:8000/demo"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert check.returncode == 0, check.stderr
