"""Fixtures for the sandbox's tests: the sandbox switched on, webhooks sent inline and captured."""

import pytest
import responses
from django.test import Client

from paystack_sandbox import services
from paystack_sandbox.tests.helpers import HOOK_URL, SECRET


@pytest.fixture(autouse=True)
def sandbox(settings, monkeypatch):
    settings.PAYSTACK_SANDBOX = True
    settings.PAYSTACK_SECRET_KEY = SECRET
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = HOOK_URL
    monkeypatch.setattr(services, "DISPATCH", "inline")
    return settings


@pytest.fixture
def hooks():
    """Outgoing HTTP is mocked: the webhook POST answers 200, anything else is refused."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(HOOK_URL, json={"received": True})
        yield mock


@pytest.fixture
def paystack_client(db):
    """A client holding the sandbox's secret key, as the Paystack client would."""
    return Client(headers={"Authorization": f"Bearer {SECRET}"})
