import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.exceptions import ImproperlyConfigured

from pos.settings import parse_taxes
from testing.db import real_settings_env, run_python

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    """Import the real settings in a fresh interpreter, as a server start would."""
    clean = real_settings_env(drop=("DJANGO_SECRET_KEY", "DEBUG"), **env)
    return run_python("import django; django.setup()", clean)


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


def test_start_up_fails_without_a_database_url_when_debug_is_off():
    # An empty value also shadows any DATABASE_URL a developer's .env may hold. `make serve` can
    # never run quietly on a throwaway server.
    result = start_django(DEBUG="false", DJANGO_SECRET_KEY="a-real-secret", DATABASE_URL="")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in result.stderr


def test_the_test_settings_without_a_database_url_point_at_the_projects_own_server():
    """So `pytest`, or a command run with pos.settings_test, outside make reaches the server
    `make test` started; nothing is started by the settings."""
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['HOST'])"
    )
    env = real_settings_env(DJANGO_SETTINGS_MODULE="pos.settings_test", DATABASE_URL="")

    own = subprocess.run(  # noqa: S603 (the project's own script)
        [sys.executable, "scripts/devdb", "url"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == unquote(own.split("@", 1)[1].rsplit(":", 1)[0])


def test_settings_never_start_a_server_without_a_database_url_even_with_debug_on():
    result = start_django(DEBUG="true", DATABASE_URL="")

    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert "make run" in result.stderr and "make test" in result.stderr


@pytest.mark.parametrize(
    "url", ["sqlite:///db.sqlite3", "sqlite://:memory:", "mysql://shop@db/shop", "nonsense://x"]
)
def test_a_database_url_that_is_not_postgresql_is_refused(url):
    result = start_django(DEBUG="true", DATABASE_URL=url)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not a PostgreSQL URL" in result.stderr


def test_a_socket_folder_url_names_the_folder_as_host():
    """scripts/devdb's URL form: the socket folder percent-encoded as the host, its case and its
    spaces kept."""
    code = "from django.conf import settings; print(settings.DATABASES['default']['HOST'])"
    url = "postgres://postgres@%2FHome%2FAma%20K%2Fpos%2F.pgdata:5432/pos"

    result = run_python(code, real_settings_env(DEBUG="true", DATABASE_URL=url))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/Home/Ama K/pos/.pgdata"


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


def production_env(**overrides) -> dict:
    """The environment of a production start: DEBUG off, a proper secret, a real host name, and
    none of the developer's or the test run's own switches."""
    import secrets

    dropped = ("DJANGO_", "DEBUG", "SECURE_", "FORWARDED_", "PAYSTACK_", "STRIPE_", "AXES_")
    production = {
        "DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.com",
    }
    return real_settings_env(drop=dropped, **{**production, **overrides})


def test_check_deploy_is_clean_under_production_settings():
    """Regression: with DEBUG off there was no HSTS, no secure cookie and no HTTPS redirect
    (check --deploy warned W004, W008, W012, W016)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


HTTPS_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

def answer(peer, path, **headers):
    response = Client(REMOTE_ADDR=peer, HTTP_HOST="example.com").get(path, **headers)
    return {
        "status": response.status_code,
        "location": response.get("Location"),
        "hsts": response.get("Strict-Transport-Security"),
    }

print(json.dumps({
    "plain": answer("203.0.113.5", "/ai/api/credits/packages/"),
    "healthz": answer("203.0.113.5", "/healthz"),
    "forged_proto": answer("203.0.113.5", "/healthz", HTTP_X_FORWARDED_PROTO="https"),
    "forged_api": answer(
        "203.0.113.5", "/ai/api/credits/packages/", HTTP_X_FORWARDED_PROTO="https"
    ),
    "proxied": answer("127.0.0.1", "/ai/api/credits/packages/", HTTP_X_FORWARDED_PROTO="https"),
    "listed_network": answer("10.1.2.3", "/healthz", HTTP_X_FORWARDED_PROTO="https"),
    "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""


def https_answers(database_url, **env) -> dict:
    import json

    result = run_python(HTTPS_PROBE, production_env(DATABASE_URL=database_url, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_sends_hsts_and_secure_cookies(fresh_database_url):
    answers = https_answers(fresh_database_url)

    assert answers["plain"]["status"] == 301
    assert answers["plain"]["location"] == "https://example.com/ai/api/credits/packages/"
    # A load balancer's plain-HTTP health probe still gets its answer.
    assert answers["healthz"]["status"] == 200 and answers["healthz"]["hsts"] is None
    # Behind the trusted proxy (127.0.0.1 by default) the request is HTTPS: no redirect.
    assert answers["proxied"]["status"] == 401
    assert answers["proxied"]["hsts"] == "max-age=31536000; includeSubDomains"
    assert answers["secure_cookies"] == [True, True]


def test_x_forwarded_proto_is_believed_only_from_forwarded_allow_ips(fresh_database_url):
    default = https_answers(fresh_database_url)
    listed = https_answers(fresh_database_url, FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.0/8")

    # A client cannot claim HTTPS: it is redirected, and the exempt health check has no HSTS.
    assert default["forged_api"]["status"] == 301
    assert default["forged_proto"]["status"] == 200 and default["forged_proto"]["hsts"] is None
    assert default["listed_network"]["hsts"] is None  # 10.1.2.3 is not listed by default
    assert listed["listed_network"]["status"] == 200
    assert listed["listed_network"]["hsts"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("env", [{"SECURE_SSL": "false"}, {"DEBUG": "true"}])
def test_without_tls_or_with_debug_there_is_no_redirect_and_no_hsts(fresh_database_url, env):
    answers = https_answers(fresh_database_url, **env)

    assert answers["plain"]["status"] == 401
    assert answers["plain"]["hsts"] is None and answers["proxied"]["hsts"] is None
    assert answers["secure_cookies"] == [False, False]


def test_the_unsigned_webhook_limits_are_read_from_the_environment():
    code = (
        "from django.conf import settings; "
        "print(settings.WEBHOOK_INVALID_PER_MINUTE, settings.WEBHOOK_INVALID_RETENTION_DAYS)"
    )
    env = {"DEBUG": "true"}
    defaults = run_python(code, real_settings_env(drop=("WEBHOOK_",), **env))
    given = run_python(
        code,
        real_settings_env(
            WEBHOOK_INVALID_PER_MINUTE="5", WEBHOOK_INVALID_RETENTION_DAYS="30", **env
        ),
    )
    negative = start_django(DEBUG="true", WEBHOOK_INVALID_PER_MINUTE="-1")

    assert defaults.stdout.split() == ["60", "7"], defaults.stderr
    assert given.stdout.split() == ["5", "30"], given.stderr
    assert negative.returncode != 0
    assert "WEBHOOK_INVALID_PER_MINUTE and WEBHOOK_INVALID_RETENTION_DAYS" in negative.stderr


SANDBOX_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SANDBOX, 'sandbox' in settings.INSTALLED_APPS)"
)


def sandbox_switch(**env):
    """settings.SANDBOX, and whether the app is installed, under the real settings with only
    the given switches set (no gateway key)."""
    clean = real_settings_env(
        drop=("SANDBOX", "PAYSTACK_", "STRIPE_"), DEBUG="true", SANDBOX="", PAYSTACK_SANDBOX=""
    )
    return run_python(SANDBOX_PROBE, {**clean, **env})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "False False"),
        ({"SANDBOX": "true"}, "True True"),
        ({"SANDBOX": "false"}, "False False"),
        ({"SANDBOX": "false", "PAYSTACK_SANDBOX": "true"}, "False False"),  # SANDBOX wins
        ({"SANDBOX": "true", "PAYSTACK_SANDBOX": "false"}, "True True"),
    ],
)
def test_sandbox_switches_the_sandbox_and_wins_over_its_old_name(env, expected):
    result = sandbox_switch(**env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert "PAYSTACK_SANDBOX is deprecated" not in result.stderr


@pytest.mark.parametrize(("old", "expected"), [("true", "True True"), ("false", "False False")])
def test_paystack_sandbox_is_still_read_when_sandbox_is_unset_with_a_warning(old, expected):
    result = sandbox_switch(PAYSTACK_SANDBOX=old)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
    assert "PAYSTACK_SANDBOX is deprecated: set SANDBOX instead" in result.stderr
