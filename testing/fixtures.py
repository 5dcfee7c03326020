"""The pytest fixtures every app's tests share; the root conftest.py loads this module as a
plugin, so tests ask for these by name."""

import importlib

import pytest
import responses

from testing.clients import token_client
from testing.db import fresh_database
from testing.factories import BusinessFactory, UserFactory
from testing.paystack_api import TEST_SECRET, PaystackMock
from testing.provider import ProviderMock
from testing.stripe_api import STRIPE_TEST_KEY, STRIPE_WEBHOOK_TEST_SECRET, StripeMock


@pytest.fixture
def fresh_database_url():
    """The URL of a new, empty database of this test's own (see testing.db.fresh_database)."""
    with fresh_database("own") as url:
        yield url


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def business(user):
    return BusinessFactory(owner=user)


@pytest.fixture
def client_for(db):
    return token_client


@pytest.fixture
def api(user, business):
    """An API client acting as the owner of `business`."""
    return token_client(user)


@pytest.fixture
def catalogue(db):
    """Re-seed what data migrations seed: a transactional test's flush has wiped it."""
    from django.apps import apps

    for migration in ("0002_seed_packages", "0005_seed_feature_prices"):
        importlib.import_module(f"ai_features.migrations.{migration}").seed(apps, None)


@pytest.fixture(autouse=True)
def _fresh_feature_prices():
    """Feature prices are cached per process; no test may see another test's prices."""
    from ai_features.credits.billing import feature_prices_forget

    feature_prices_forget()
    yield
    feature_prices_forget()


@pytest.fixture
def paystack_settings(settings):
    """Paystack configured with the dummy test key of the shared signature vectors."""
    settings.PAYSTACK_SECRET_KEY = TEST_SECRET
    settings.PAYSTACK_PUBLIC_KEY = "pk_test_0000000000000000000000000000000000000000"
    settings.PAYSTACK_BASE_URL = "https://api.paystack.test"
    settings.PAYSTACK_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def paystack(paystack_settings):
    """Paystack's API mocked (testing.paystack_api.PaystackMock)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield PaystackMock(mock, paystack_settings.PAYSTACK_BASE_URL)


@pytest.fixture
def llm(settings, monkeypatch):
    """The AI provider configured, with the SDK talking to a ProviderMock."""
    import httpx2
    import openai

    from ai_features.features import provider, services

    settings.AI_PROVIDER_API_KEY = "sk-test-provider-key-not-real"
    settings.AI_PROVIDER_BASE_URL = "https://llm.test/v1"
    settings.AI_PROVIDER_MAX_RETRIES = 0
    settings.AI_PROVIDER_TIMEOUT_SECONDS = 5
    mock = ProviderMock()

    def client():
        transport = httpx2.MockTransport(mock.handler)
        return provider.ProviderClient(http_client=openai.DefaultHttpxClient(transport=transport))

    monkeypatch.setattr(services, "provider_client", client)
    return mock


@pytest.fixture
def stripe_settings(settings):
    """Stripe configured against a base URL that `responses` answers."""
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_TEST_SECRET
    settings.STRIPE_API_BASE = "https://stripe.api.test"
    settings.STRIPE_CURRENCY = "USD"
    return settings


@pytest.fixture
def stripe_api(stripe_settings, _stripe_retries_do_not_sleep):
    """Stripe's API mocked (testing.stripe_api.StripeMock)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StripeMock(mock, stripe_settings.STRIPE_API_BASE)


@pytest.fixture
def _stripe_retries_do_not_sleep(monkeypatch):
    """The SDK sleeps half a second or more before a retry; tests need not wait for it."""
    import stripe

    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, n: 0)
