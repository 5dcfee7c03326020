"""Fixtures for every test under sandbox/ (its subpackages' tests too): the sandbox switched on,
webhooks sent inline and captured."""

import pytest
import responses
from django.test import Client

from sandbox.paystack import services
from sandbox.paystack.tests.helpers import HOOK_URL, SECRET


@pytest.fixture(autouse=True)
def sandbox(settings, monkeypatch):
    settings.SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = SECRET
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = HOOK_URL
    monkeypatch.setattr(services, "DISPATCH", "inline")
    return settings


def _receiver(url):
    """Outgoing HTTP mocked: a webhook POST to `url` answers 200, anything else is refused."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(url, json={"received": True})
        yield mock


@pytest.fixture
def hooks():
    """Outgoing HTTP is mocked: the webhook POST answers 200, anything else is refused."""
    yield from _receiver(HOOK_URL)


@pytest.fixture
def paystack_client(db):
    """A client holding the sandbox's secret key, as the Paystack client would."""
    return Client(headers={"Authorization": f"Bearer {SECRET}"})


@pytest.fixture
def txn(paystack_client, hooks, django_capture_on_commit_callbacks):
    """A sandbox transaction paid through the checkout page, its webhook already cleared from
    `hooks`."""
    from sandbox.paystack.tests.helpers import paid

    paid_txn = paid(paystack_client, django_capture_on_commit_callbacks)
    hooks.calls.reset()
    return paid_txn


@pytest.fixture
def stripe_sandbox(settings, monkeypatch):
    """The Stripe stand-in configured as `make run` will: a test key, a signing secret, a
    webhook URL; events sent inline."""
    from sandbox.stripe import webhooks as stripe_webhooks
    from sandbox.stripe.tests.helpers import STRIPE_HOOK_URL, STRIPE_KEY, WEBHOOK_SECRET

    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_SANDBOX_WEBHOOK_URL = STRIPE_HOOK_URL
    monkeypatch.setattr(stripe_webhooks, "DISPATCH", "inline")
    return settings


@pytest.fixture
def stripe_http(db, stripe_sandbox):
    """The SDK's transport to the stand-in, in-process; `.sent` keeps what the SDK sent."""
    from sandbox.stripe.tests.helpers import in_process

    return in_process()


@pytest.fixture
def sdk(stripe_http):
    """A real `stripe.StripeClient` (16.1.0) talking to the stand-in."""
    from sandbox.stripe.tests.helpers import sdk_client

    return sdk_client(stripe_http)


@pytest.fixture
def stripe_hooks():
    """Outgoing HTTP is mocked: the Stripe webhook POST answers 200, anything else is refused."""
    from sandbox.stripe.tests.helpers import STRIPE_HOOK_URL

    yield from _receiver(STRIPE_HOOK_URL)


@pytest.fixture
def live_app(live_server, settings, monkeypatch):
    """A live server's base URL (pytest-django's, threaded), with the app pointed at its own
    Paystack sandbox, Stripe stand-in and OpenAI stand-in as `make run` points it; the
    stand-ins post their webhooks back to it inline. See live.py."""
    import httpx2
    import openai

    from ai_features.features import provider, services
    from sandbox.stripe import webhooks as stripe_webhooks
    from sandbox.stripe.tests.helpers import STRIPE_KEY, WEBHOOK_SECRET
    from sandbox.tests.live import TIMEOUT

    base = live_server.url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    settings.PAYSTACK_BASE_URL = f"{base}/sandbox/paystack"
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = f"{base}/ai/api/webhooks/paystack/"
    settings.PAYSTACK_TIMEOUT_SECONDS = TIMEOUT
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = f"{base}/sandbox/stripe"
    settings.STRIPE_SANDBOX_WEBHOOK_URL = f"{base}/ai/api/webhooks/stripe/"
    settings.STRIPE_CURRENCY = "USD"
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
    monkeypatch.setattr(stripe_webhooks, "DISPATCH", "inline")
    settings.AI_PROVIDER_BASE_URL = f"{base}/sandbox/openai/v1"
    settings.AI_PROVIDER_API_KEY = "sk-sandbox-test"
    settings.AI_PROVIDER_MAX_RETRIES = 0  # one provider call per feature call
    settings.AI_PROVIDER_TIMEOUT_SECONDS = TIMEOUT
    # The real SDK over real HTTP, but keeping no connection (nor server thread) alive.
    http = openai.DefaultHttpxClient(limits=httpx2.Limits(max_keepalive_connections=0))
    client = provider.ProviderClient(http_client=http)
    monkeypatch.setattr(services, "provider_client", lambda: client)
    yield base
    http.close()


@pytest.fixture
def live_owner(transactional_db):
    """An HTTP client holding a new business owner's API token; `.business` is the shop."""
    from rest_framework.authtoken.models import Token

    from sandbox.tests.live import Client
    from testing.factories import BusinessFactory

    business = BusinessFactory()
    owner = Client(Authorization=f"Token {Token.objects.create(user=business.owner).key}")
    owner.business = business
    return owner
