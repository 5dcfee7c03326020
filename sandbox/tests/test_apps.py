"""The sandbox refuses to start with a live key, and production settings do not install it."""

import json

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from sandbox.apps import refuse_live_key
from testing.db import real_settings_env, run_python

# Shaped like live keys only as far as the check looks (a hyphen early keeps secret scanners
# from mistaking them for real ones).
LIVE_LOOKING_KEYS = [
    "sk_live_not-a-real-key",
    "SK_LIVE_not-a-real-key",  # regression: the check was case-sensitive
    "Sk_Live_not-a-real-key",
    "  sk_live_not-a-real-key  ",
    "rk_live_not-a-real-key",
    "RK_LIVE_not-a-real-key",
]
LIVE_LOOKING_KEY = LIVE_LOOKING_KEYS[0]


@pytest.mark.parametrize("key", LIVE_LOOKING_KEYS)
def test_a_live_paystack_key_is_refused_when_the_sandbox_is_on(settings, key):
    settings.SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = key

    with pytest.raises(ImproperlyConfigured, match=r"refuses to run with a live key"):
        refuse_live_key()
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("sandbox").ready()


@pytest.mark.parametrize("key", LIVE_LOOKING_KEYS)
def test_a_live_stripe_key_is_refused_from_settings_or_the_environment(settings, monkeypatch, key):
    settings.SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = "sk_test_sandbox"
    settings.STRIPE_SECRET_KEY = key
    with pytest.raises(ImproperlyConfigured, match=r"\(STRIPE_SECRET_KEY\)"):
        refuse_live_key()


@pytest.mark.parametrize("key", ["sk_test_sandbox", "", "  ", "pk_live_is-public", "xsk_live_"])
def test_a_test_key_or_none_passes(settings, monkeypatch, key):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    settings.SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = key

    assert refuse_live_key() is None


def test_a_live_key_is_fine_when_the_sandbox_is_off(settings):
    settings.SANDBOX = False
    settings.PAYSTACK_SECRET_KEY = LIVE_LOOKING_KEY

    assert refuse_live_key() is None
    assert apps.get_app_config("sandbox").ready() is None


def test_missing_settings_count_as_off(settings):
    del settings.SANDBOX
    settings.PAYSTACK_SECRET_KEY = LIVE_LOOKING_KEY

    assert refuse_live_key() is None


PRINT_APPS = "import json, django; django.setup(); from django.conf import settings; " + (
    "print(json.dumps(settings.INSTALLED_APPS))"
)


def sandbox_env(**env) -> dict:
    """The real settings' environment without any gateway key or sandbox switch of our own."""
    return real_settings_env(drop=("PAYSTACK_", "STRIPE_", "SANDBOX"), **env)


def installed_apps(**env) -> list[str]:
    """INSTALLED_APPS as the real settings make them in a fresh interpreter."""
    done = run_python(
        PRINT_APPS, sandbox_env(DEBUG="false", DJANGO_SECRET_KEY="apps-test-secret", **env)
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("sandbox", ["", "false"])
def test_production_settings_do_not_install_the_sandbox_or_the_demo(sandbox):
    found = installed_apps(SANDBOX=sandbox)

    assert "ai_features" in found
    assert "sandbox" not in found and "demo_spa" not in found


def test_the_sandbox_switch_installs_both():
    found = installed_apps(SANDBOX="true", PAYSTACK_SECRET_KEY="sk_test_sandbox")

    assert {"sandbox", "demo_spa"} <= set(found)


def test_the_sandbox_switch_with_a_live_key_refuses_to_start():
    env = sandbox_env(DEBUG="true", SANDBOX="true", PAYSTACK_SECRET_KEY="SK_LIVE_x-y")

    done = run_python("import django; django.setup()", env)

    assert done.returncode != 0
    assert "refuses to run with a live key (PAYSTACK_SECRET_KEY)" in done.stderr
