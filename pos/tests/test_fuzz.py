"""Fuzz the API against its own OpenAPI schema with schemathesis (bounded; runs in CI).

Checks: no 5xx, every answer's status, content type and body conform to the schema, and every
balance still equals its ledger sum afterwards.
"""

import re

import pytest
import responses
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ai_features.services.credits import credits_add
from ai_features.services.ledger import ledger_mismatches
from conftest import make_business, make_purchase, paystack_json, token_client
from pos.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Loading the schema asks the app for /api/schema/, which touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


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
def member(db, paystack_settings, in_test_transaction):
    """A member of a business with credits, a purchase and an alert, and Paystack stood in for."""
    business = make_business()
    credits_add(business=business, amount="50", kind="grant")
    make_purchase(business)
    token = token_client(business.owner)._credentials["HTTP_AUTHORIZATION"]
    base = paystack_settings.PAYSTACK_BASE_URL
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            f"{base}/transaction/initialize",
            json=paystack_json("initialize_success.paystack-docs.json"),
        )
        mock.get(
            re.compile(rf"{re.escape(base)}/transaction/verify/.*"),
            json={"status": True, "message": "ok", "data": {"status": "ongoing", "amount": 1}},
        )
        yield {"Authorization": token}


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_honours_its_schema(case, member):
    case.call_and_validate(headers=member, checks=CHECKS)

    assert ledger_mismatches() == []
