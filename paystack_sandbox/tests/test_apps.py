"""The sandbox refuses to start with a live key."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from paystack_sandbox.apps import refuse_live_key

# Shaped like a live key only as far as the check looks (a hyphen early keeps secret scanners
# from mistaking it for a real one).
LIVE_LOOKING_KEY = "sk_live_not-a-real-key"


def test_a_live_key_is_refused_when_the_sandbox_is_on(settings):
    settings.PAYSTACK_SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = LIVE_LOOKING_KEY

    with pytest.raises(ImproperlyConfigured, match="refuses to run with a live key"):
        refuse_live_key()
    with pytest.raises(ImproperlyConfigured):
        apps.get_app_config("paystack_sandbox").ready()


@pytest.mark.parametrize("key", ["sk_test_sandbox", "", "  "])
def test_a_test_key_or_none_passes(settings, key):
    settings.PAYSTACK_SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = key

    assert refuse_live_key() is None


def test_a_live_key_is_fine_when_the_sandbox_is_off(settings):
    settings.PAYSTACK_SANDBOX = False
    settings.PAYSTACK_SECRET_KEY = LIVE_LOOKING_KEY

    assert refuse_live_key() is None
    assert apps.get_app_config("paystack_sandbox").ready() is None


def test_missing_settings_count_as_off(settings):
    del settings.PAYSTACK_SANDBOX
    settings.PAYSTACK_SECRET_KEY = LIVE_LOOKING_KEY

    assert refuse_live_key() is None
