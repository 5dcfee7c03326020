"""Fuzz the API against its own OpenAPI schema with schemathesis (bounded; runs in CI).

Checks: no 5xx, every answer's status, content type and body conform to the schema, and every
balance still equals its ledger sum afterwards. Positive cases run as a member of a business with
credits (with rate limits lifted, so requests reach the views); every other verify uses the
business's real purchase, which Paystack's stand-in calls paid, so money really moves. Negative
cases (malformed input) are checked for 5xx and the ledger.
"""

import itertools
import re

import pytest
import responses
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ai_features.credits.credits import credits_add
from ai_features.credits.ledger import ledger_mismatches
from ai_features.credits.money import to_minor_units
from ai_features.models import CreditLedgerEntry, CreditPackage
from pos.wsgi import application
from testing.factories import BusinessFactory, PurchaseFactory
from testing.paystack_api import paystack_json
from testing.stripe_api import STRIPE_TEST_KEY, stripe_json

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
VERIFY = "/ai/api/credits/verify/"
LOGOUT = "/accounts/api/auth/logout/"


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )


def _schema(mode: GenerationMode, *, with_security: bool):
    # Loading the schema asks the app for /api/schema/, which touches no database.
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    loaded.config.generation.update(modes=[mode], with_security_parameters=with_security)
    return loaded


positive = _schema(GenerationMode.POSITIVE, with_security=False)
negative = _schema(GenerationMode.NEGATIVE, with_security=True)


@pytest.fixture
def in_test_transaction():
    """Requests go straight to the WSGI app, so Django would close the test's connection at each
    request's start and end (it is inside the test's transaction); its own test client avoids
    that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def member(db, paystack_settings, in_test_transaction, monkeypatch, llm):
    """A member of a business with credits and a purchase Paystack's stand-in calls paid."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "100000/min" for scope in ("purchase", "verify", "login", "register", "ai")},
    )
    business = BusinessFactory()
    credits_add(business=business, amount="50", kind="grant")
    paid = PurchaseFactory(business=business)
    token = Token.objects.create(user=business.owner)
    base = paystack_settings.PAYSTACK_BASE_URL
    initialized = paystack_json("initialize_success.paystack-docs.json")
    success = paystack_json("verify_data_success_mobile_money_ghs.jsonb-reordered.json")
    success.update(
        reference=paid.payment_reference, amount=to_minor_units(paid.total_amount), currency="GHS"
    )
    paystack_settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    paystack_settings.STRIPE_API_BASE = "https://stripe.api.test"
    CreditPackage.objects.update(stripe_price="5.00")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            "https://stripe.api.test/v1/checkout/sessions",
            json=stripe_json("checkout_session.created.json"),
        )
        mock.post(f"{base}/transaction/initialize", json=initialized)
        mock.get(
            f"{base}/transaction/verify/{paid.payment_reference}",
            json={"status": True, "message": "Verification successful", "data": success},
        )
        mock.get(
            re.compile(rf"{re.escape(base)}/transaction/verify/.*"),
            json={"status": True, "message": "ok", "data": {"status": "ongoing", "amount": 1}},
        )
        yield {
            "headers": {"Authorization": f"Token {token.key}"},
            "token": token,
            "reference": paid.payment_reference,
            "business_id": business.pk,
            "alternate": itertools.cycle([True, False]),
        }


def _aim_at_real_data(case, member) -> None:
    """Every other case names the member's own business and, for verify, its paid purchase, so
    the fuzzing reaches the views' success paths and not only their refusals."""
    if not next(member["alternate"]):
        return
    if case.headers and "X-Business-ID" in case.headers:
        case.headers["X-Business-ID"] = str(member["business_id"])
    if case.path == VERIFY and case.method == "GET":
        case.query = {"reference": member["reference"]}
    elif case.path == VERIFY:
        case.body = {"reference": member["reference"]}


@positive.parametrize()
@fuzz(120)
def test_the_api_honours_its_schema(case, member):
    _aim_at_real_data(case, member)

    case.call_and_validate(headers=member["headers"], checks=CONFORMANCE)

    if case.path == LOGOUT:  # keep the member logged in for the next example
        Token.objects.get_or_create(key=member["token"].key, user=member["token"].user)
    assert ledger_mismatches() == []


@negative.parametrize()
@fuzz(40)
def test_malformed_requests_never_break_the_server_or_the_ledger(case, member):
    case.call_and_validate(headers=member["headers"], checks=[not_a_server_error])

    if case.path == LOGOUT:
        Token.objects.get_or_create(key=member["token"].key, user=member["token"].user)
    assert ledger_mismatches() == []


def test_the_fuzzed_verify_really_credits_a_purchase(member):
    """The ledger check above means something only if fuzzing moves money; show that it can."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=member["headers"]["Authorization"])

    response = client.get(VERIFY, {"reference": member["reference"]})

    assert response.status_code == 200
    assert CreditLedgerEntry.objects.filter(kind="purchase").count() == 1
    assert ledger_mismatches() == []
