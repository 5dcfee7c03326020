"""Fixtures and factories shared by every app's tests."""

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from psycopg2 import sql
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Business, BusinessMembership
from ai_features.models import BusinessAICredits, CreditLedgerEntry

ROOT = Path(settings.BASE_DIR)
PAYSTACK_FIXTURES = ROOT.parent / "shared" / "paystack" / "fixtures"
TEST_SECRET = "sk_test_0000000000000000000000000000000000000000"
_serial = itertools.count(1)


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


@pytest.fixture
def fresh_database_url():
    """The URL of a new, empty database of this test's own (see fresh_database)."""
    with fresh_database("own") as url:
        yield url


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


class PaystackStandIn:
    """Paystack's API mocked with `responses`, answering in the shapes of the shared fixtures."""

    def __init__(self, mock, base_url):
        self.mock = mock
        self.base = base_url

    def initialize_ok(self):
        body = paystack_json("initialize_success.paystack-docs.json")
        self.mock.post(f"{self.base}/transaction/initialize", json=body)
        return body["data"]

    def verify(self, reference, *, status="success", amount=None, currency="GHS", **extra):
        """A verify answer built on the real GHS mobile-money success payload."""
        from ai_features.credits.money import to_minor_units
        from ai_features.models import AICreditPurchase

        if amount is None:
            total = AICreditPurchase.objects.get(payment_reference=reference).total_amount
            amount = to_minor_units(total)
        data = paystack_json("verify_data_success_mobile_money_ghs.jsonb-reordered.json")
        data.update(reference=reference, status=status, amount=amount, currency=currency, **extra)
        self.mock.get(
            f"{self.base}/transaction/verify/{reference}",
            json={"status": True, "message": "Verification successful", "data": data},
        )
        return data

    def calls_to(self, path):
        return [c for c in self.mock.calls if c.request.url.startswith(self.base + path)]


@pytest.fixture
def paystack(paystack_settings):
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield PaystackStandIn(mock, paystack_settings.PAYSTACK_BASE_URL)


def sign(raw: bytes, secret: str = TEST_SECRET) -> str:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), raw, hashlib.sha512).hexdigest()


def charge_success_body(reference: str, amount: int, currency: str = "GHS") -> bytes:
    """The published GHS mobile-money charge.success webhook, re-aimed at one of our purchases."""
    payload = paystack_json("webhook_charge_success_mobile_money_ghs.paystack-docs.json")
    payload["data"].update(reference=reference, amount=amount, currency=currency)
    return json.dumps(payload).encode()


# Amount literals no genuine Paystack event carries, as raw JSON; None leaves the key out.
# Python's json reads the bare NaN, Infinity and 1e400 as non-finite floats.
BAD_AMOUNTS = [
    pytest.param(b'"NaN"', id="NaN-string"),
    pytest.param(b"NaN", id="NaN-token"),
    pytest.param(b"-Infinity", id="minus-infinity-token"),
    pytest.param(b"-100", id="negative"),
    pytest.param(b'"-9400"', id="negative-string"),
    pytest.param(b"0", id="zero"),
    pytest.param(None, id="missing"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"94.00"', id="cedis-string"),
    pytest.param(b"9400.0", id="float"),
    pytest.param(b"1e400", id="huge-float"),
    pytest.param(b"1" + b"0" * 30, id="huge-int"),
    pytest.param(b'"' + b"9" * 30 + b'"', id="huge-string"),
    pytest.param(b"true", id="bool"),
    pytest.param(b'{"value": 9400}', id="object"),
]


def with_amount(payload: dict, literal: bytes | None) -> bytes:
    """`payload` as JSON bytes with its data.amount replaced by a raw literal (or left out)."""
    if literal is None:
        del payload["data"]["amount"]
        return json.dumps(payload).encode()
    payload["data"]["amount"] = "__AMOUNT__"
    return json.dumps(payload).encode().replace(b'"__AMOUNT__"', literal)


def deliver_webhook(client, raw: bytes, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        signature = sign(raw)
    if signature is not None:
        headers["HTTP_X_PAYSTACK_SIGNATURE"] = signature
    return client.generic(
        "POST", "/ai/api/webhooks/paystack/", raw, content_type="application/json", **headers
    )


def make_purchase(business, package="value", custom_amount=None, status="pending", **extra):
    """A purchase as the purchase endpoint leaves it, priced by the real invoice code."""
    from ai_features.payments.packages import purchase_quote
    from ai_features.payments.purchases import purchase_create

    quote = purchase_quote(package=package, custom_amount=custom_amount)
    fields = {
        "business": business,
        "user": business.owner,
        "package": quote.package,
        "amount_paid": quote.invoice.base_amount,
        "total_tax": quote.invoice.total_tax,
        "total_amount": quote.invoice.total_amount,
        "currency": quote.invoice.currency,
        "credits_purchased": quote.credits,
        "bonus_credits": quote.bonus_credits,
        "payment_method": "mobile_money",
        "payment_status": status,
        **extra,
    }
    return purchase_create(**fields)


@pytest.fixture
def catalogue(db):
    """Re-seed what data migrations seed: a transactional test's flush has wiped it."""
    import importlib

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


OPENAI_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "openai" / "fixtures"


def openai_json(name: str):
    """A published OpenAI payload from ../shared/openai/fixtures."""
    return json.loads((OPENAI_FIXTURES / name).read_bytes())


class ProviderStandIn:
    """The LLM provider's HTTP side, served to the real `openai` SDK through an httpx
    MockTransport: queued answers first, then a completion saying `text` (or `json_text` when
    JSON was asked for)."""

    def __init__(self):
        self.requests = []
        self.queue = []
        self.text = "A fine product, described."
        self.json_text = json.dumps(
            {"summary": "Buys often.", "segment": "regular", "recommendations": ["Say thanks"]}
        )
        self._lock = threading.Lock()

    def completion(self, content, *, fixture="chat_completion.success.json", **choice):
        body = openai_json(fixture)
        body["choices"][0]["message"]["content"] = content
        body["choices"][0].update(choice)
        return body

    def then(self, *answers):
        """Queue answers: a dict (a 200 completion body), an (HTTP status, body) pair, an
        httpx2.Response, or an exception for the transport to raise."""
        self.queue.extend(answers)

    def handler(self, request):
        import httpx2

        with self._lock:
            self.requests.append(request)
            answer = self.queue.pop(0) if self.queue else None
        if answer is None:
            wants_json = "response_format" in json.loads(request.content)
            answer = self.completion(self.json_text if wants_json else self.text)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, httpx2.Response):
            return answer
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        if isinstance(body, bytes | str):
            return httpx2.Response(status, content=body, headers={"content-type": "text/html"})
        return httpx2.Response(status, json=body, headers={"x-request-id": "req_standin_1"})

    def sent(self, index=-1) -> dict:
        """The JSON body of a request the SDK sent."""
        return json.loads(self.requests[index].content)


@pytest.fixture
def llm(settings, monkeypatch):
    """The AI provider configured, with the SDK talking to a ProviderStandIn."""
    import httpx2
    import openai

    from ai_features.features import provider, services

    settings.AI_PROVIDER_API_KEY = "sk-test-provider-key-not-real"
    settings.AI_PROVIDER_BASE_URL = "https://llm.test/v1"
    settings.AI_PROVIDER_MAX_RETRIES = 0
    settings.AI_PROVIDER_TIMEOUT_SECONDS = 5
    stand_in = ProviderStandIn()

    def client():
        transport = httpx2.MockTransport(stand_in.handler)
        return provider.ProviderClient(http_client=openai.DefaultHttpxClient(transport=transport))

    monkeypatch.setattr(services, "provider_client", client)
    return stand_in


def grant_credits(business, amount) -> None:
    """Top a business up through the real grant path (ledger entry included)."""
    from ai_features.credits.credits import credits_add

    credits_add(business=business, amount=Decimal(str(amount)), kind="grant")


def deduct_credits(business, amount, kind="usage"):
    """Take credits out through the core's own primitives (lock, check, debit, ledger), as
    every spend does; a test stand-in for a charge with no usage row."""
    from django.db import transaction
    from django.utils import timezone

    from ai_features.credits.credits import credits_amount_checked, debit_locked, spendable_locked

    amount = credits_amount_checked(amount)
    with transaction.atomic():
        row = spendable_locked(business=business, amount=amount, now=timezone.now())
        return debit_locked(row=row, amount=amount, kind=kind)


STRIPE_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "stripe" / "fixtures"
STRIPE_TEST_KEY = "sk_test_0000000000000000000000000000000000000000"
STRIPE_WEBHOOK_TEST_SECRET = "whsec_test_0000000000000000000000000000000"


def stripe_json(name: str):
    """A published Stripe payload from ../shared/stripe/fixtures."""
    return json.loads((STRIPE_FIXTURES / name).read_bytes())


@pytest.fixture
def stripe_settings(settings):
    """Stripe configured against a stand-in base URL that `responses` answers."""
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_TEST_SECRET
    settings.STRIPE_API_BASE = "https://stripe.api.test"
    settings.STRIPE_CURRENCY = "USD"
    return settings


class StripeStandIn:
    """Stripe's API mocked with `responses` (the SDK speaks through `requests`), answering in
    the shapes of the shared fixtures."""

    def __init__(self, mock, base_url):
        self.mock = mock
        self.base = base_url

    def session(self, purchase, **changes) -> dict:
        """The published Checkout Session, re-aimed at one of our purchases."""
        from ai_features.credits.money import to_minor_units

        body = stripe_json("checkout_session.created.json")
        body.update(
            client_reference_id=purchase.payment_reference,
            amount_total=to_minor_units(purchase.total_amount),
            amount_subtotal=to_minor_units(purchase.total_amount),
            currency=purchase.currency.lower(),
            metadata={"reference": purchase.payment_reference},
        )
        if purchase.checkout_session_id:
            body["id"] = purchase.checkout_session_id
        body.update(changes)
        return body

    def create_ok(self, **changes) -> dict:
        body = stripe_json("checkout_session.created.json")
        body.update(changes)
        self.mock.post(f"{self.base}/v1/checkout/sessions", json=body)
        return body

    def retrieve(self, purchase, **changes) -> dict:
        body = self.session(purchase, **changes)
        self.mock.get(f"{self.base}/v1/checkout/sessions/{body['id']}", json=body)
        return body

    def calls_to(self, path):
        return [c for c in self.mock.calls if c.request.url.startswith(self.base + path)]

    def create_error(self, *, status=None, body=None, exc=None):
        """Checkout Session create failing: an HTTP error in Stripe's error shape, or a
        network exception for `requests` to raise."""
        return self._error("POST", f"{self.base}/v1/checkout/sessions", status, body, exc)

    def retrieve_error(self, session_id, *, status=None, body=None, exc=None):
        url = f"{self.base}/v1/checkout/sessions/{session_id}"
        return self._error("GET", url, status, body, exc)

    def _error(self, method, url, status, body, exc):
        if exc is not None:
            return self.mock.add(method, url, body=exc)
        body = body or {"error": {"type": "api_error", "message": STRIPE_ERROR_MESSAGE}}
        return self.mock.add(method, url, status=status or 500, json=body)

    def sent_form(self, index=-1) -> dict:
        """The form a Checkout Session create sent, decoded (one value per key)."""
        from urllib.parse import parse_qsl

        call = self.calls_to("/v1/checkout/sessions")[index]
        return dict(parse_qsl(call.request.body, keep_blank_values=True))


@pytest.fixture
def stripe_api(stripe_settings, _stripe_retries_do_not_sleep):
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StripeStandIn(mock, stripe_settings.STRIPE_API_BASE)


# A Stripe error message with something secret-looking in it: it must never reach our logs.
STRIPE_ERROR_MESSAGE = "Something broke near sk_test_leaked_by_the_sdk_message"


@pytest.fixture
def _stripe_retries_do_not_sleep(monkeypatch):
    """The SDK sleeps half a second or more before a retry; tests need not wait for it."""
    import stripe

    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, n: 0)


def stripe_priced(code="value", price="6.50", price_id="") -> None:
    """Give a package a price in the Stripe currency (and a Stripe Price id, if given)."""
    from ai_features.models import CreditPackage

    CreditPackage.objects.filter(code=code).update(
        stripe_price=Decimal(price), stripe_price_id=price_id
    )


def make_stripe_purchase(business, package="value", status="pending", **extra):
    """A Stripe purchase as the purchase endpoint leaves it: priced in the Stripe currency by
    the real quote code, with the Checkout Session id Stripe gave it."""
    from ai_features.models import CreditPackage
    from ai_features.payments.packages import purchase_quote
    from ai_features.payments.purchases import purchase_create

    if CreditPackage.objects.get(code=package).stripe_price is None:
        stripe_priced(package)
    quote = purchase_quote(package=package, gateway="stripe")
    fields = {
        "business": business,
        "user": business.owner,
        "gateway": "stripe",
        "package": quote.package,
        "amount_paid": quote.invoice.base_amount,
        "total_tax": quote.invoice.total_tax,
        "total_amount": quote.invoice.total_amount,
        "currency": quote.invoice.currency,
        "credits_purchased": quote.credits,
        "bonus_credits": quote.bonus_credits,
        "payment_method": "card",
        "payment_status": status,
        "checkout_session_id": f"cs_test_{next(_serial):04d}a11YYufWQzNY63zpQ6QSNRQhkUpVph",
        "gateway_status": "initialized",
        **extra,
    }
    return purchase_create(**fields)


def stripe_event(event_type: str, data_object: dict, event_id: str | None = None) -> dict:
    """The published `checkout.session.completed` envelope carrying another type and object."""
    event = stripe_json("event.checkout.session.completed.json")
    event.update(type=event_type, id=event_id or f"evt_test_{next(_serial):06d}")
    event["data"] = {"object": data_object}
    return event


def session_event(purchase, event_type="checkout.session.completed", event_id=None, **changes):
    """A checkout.session.* event as Stripe sends it (the published completed, paid one),
    re-aimed at one of our purchases."""
    from ai_features.credits.money import to_minor_units

    session = stripe_json("event.checkout.session.completed.json")["data"]["object"]
    session.update(
        id=purchase.checkout_session_id,
        client_reference_id=purchase.payment_reference,
        amount_total=to_minor_units(purchase.total_amount),
        amount_subtotal=to_minor_units(purchase.total_amount),
        currency=purchase.currency.lower(),
        metadata={"purchase_id": str(purchase.pk), "reference": purchase.payment_reference},
        status="complete",
        payment_intent=f"pi_test_{purchase.pk:06d}",
    )
    session.update(changes)
    return stripe_event(event_type, session, event_id)


def charge_refunded_event(purchase, amount_refunded, event_id=None, **changes):
    """`charge.refunded` with the current Charge shape (charge.json), re-aimed at a purchase."""
    from ai_features.credits.money import to_minor_units

    charge = stripe_json("charge.json")
    amount = to_minor_units(purchase.total_amount)
    charge.update(
        id=f"ch_test_{purchase.pk:06d}",
        amount=amount,
        amount_captured=amount,
        amount_refunded=amount_refunded,
        refunded=amount_refunded == amount,
        currency=purchase.currency.lower(),
        payment_intent=purchase.payment_intent_id or f"pi_test_{purchase.pk:06d}",
        metadata={"purchase_id": str(purchase.pk), "reference": purchase.payment_reference},
    )
    charge.update(changes)
    return stripe_event("charge.refunded", charge, event_id)


def stripe_signature(raw: bytes, secret=STRIPE_WEBHOOK_TEST_SECRET, timestamp=None) -> str:
    """A `Stripe-Signature` header for these bytes, made by the real SDK."""
    import stripe

    return stripe.WebhookSignature.generate_signature_header(
        raw.decode(), secret, timestamp=timestamp
    )


def deliver_stripe(client, raw, signature="sign"):
    """POST a body (bytes, or a dict to serialise) to the Stripe webhook, signed by default."""
    if isinstance(raw, dict):
        raw = json.dumps(raw).encode()
    headers = {}
    if signature == "sign":
        signature = stripe_signature(raw)
    if signature is not None:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.generic(
        "POST", "/ai/api/webhooks/stripe/", raw, content_type="application/json", **headers
    )
