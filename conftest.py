"""Fixtures and factories shared by every app's tests."""

import itertools
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Business, BusinessMembership
from ai_features.models import BusinessAICredits, CreditLedgerEntry

PAYSTACK_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "paystack" / "fixtures"
TEST_SECRET = "sk_test_0000000000000000000000000000000000000000"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
_serial = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: SQLite has no row locks (select_for_update) and serialises "
        "writers, so this concurrency test would prove nothing. Set DATABASE_URL to PostgreSQL."
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def make_user(username=None, password="pw-Str0ng-enough", **extra):
    username = username or f"user{next(_serial)}"
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=password, **extra
    )


def make_business(owner=None, name=None, role="owner"):
    owner = owner or make_user()
    business = Business.objects.create(
        name=name or f"Shop {next(_serial)}", owner=owner, email=owner.email
    )
    BusinessMembership.objects.create(user=owner, business=business, role=role)
    return business


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def ledger_sum(business) -> Decimal:
    return sum(
        CreditLedgerEntry.objects.filter(business=business).values_list("amount", flat=True),
        Decimal("0.00"),
    )


def stored_balance(business) -> Decimal:
    row = BusinessAICredits.objects.filter(business=business, is_active=True).first()
    return row.balance if row else Decimal("0.00")


def run_in_threads(count, target):
    """Run target(index) in `count` threads released at once; each closes its own connection."""
    barrier = threading.Barrier(count)
    errors = []

    def worker(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # surfaced to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def business(user):
    return make_business(owner=user)


@pytest.fixture
def client_for(db):
    return token_client


@pytest.fixture
def api(user, business):
    """An API client acting as the owner of `business`."""
    return token_client(user)


def paystack_raw(name: str) -> bytes:
    """The exact bytes of a published Paystack payload in ../shared/paystack/fixtures."""
    return (PAYSTACK_FIXTURES / name).read_bytes()


def paystack_json(name: str):
    return json.loads(paystack_raw(name))


@pytest.fixture
def paystack_settings(settings):
    """Paystack configured with the dummy test key of the shared signature vectors."""
    settings.PAYSTACK_SECRET_KEY = TEST_SECRET
    settings.PAYSTACK_PUBLIC_KEY = "pk_test_0000000000000000000000000000000000000000"
    settings.PAYSTACK_BASE_URL = "https://api.paystack.test"
    settings.PAYSTACK_TIMEOUT_SECONDS = 5
    return settings
