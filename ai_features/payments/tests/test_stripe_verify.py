"""GET and POST /ai/api/credits/verify/ for Stripe purchases: by Checkout Session id or by our
reference, the session retrieved through the real SDK (design sections 8 and 13)."""

import logging
from decimal import Decimal

import pytest
import requests

from ai_features.models import CreditLedgerEntry
from ai_features.payments.tests.helpers import (
    ALREADY_PROCESSED,
    CREDITED,
    NOT_COMPLETED,
    NOT_FOUND,
    verify_answer,
)
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, StripePurchaseFactory
from testing.stripe_api import STRIPE_ERROR_MESSAGE, STRIPE_TEST_KEY

pytestmark = pytest.mark.django_db
VERIFY = "/ai/api/credits/verify/"
PAID = {"status": "complete", "payment_status": "paid", "payment_intent": "pi_test_verify_0001"}


@pytest.fixture
def purchase(business, stripe_settings):
    """A pending Stripe purchase of the value package: 100 credits for USD 6.50."""
    return StripePurchaseFactory(business=business)


def verify(api, method, **params):
    if method == "GET":
        return api.get(VERIFY, params)
    return api.post(VERIFY, params, format="json")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_paid_session_credits_the_purchase(api, business, purchase, stripe_api, method):
    stripe_api.retrieve(purchase, **PAID)

    response = verify(api, method, session_id=purchase.checkout_session_id)

    assert (response.status_code, response.json()) == verify_answer(
        CREDITED, purchase.payment_reference, credits_added=100.0, new_balance=100.0
    )
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert purchase.payment_intent_id == "pi_test_verify_0001"
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)
    (call,) = stripe_api.mock.calls
    assert call.request.url.endswith(f"/v1/checkout/sessions/{purchase.checkout_session_id}")


def test_verifying_again_answers_already_processed_without_asking_stripe(
    api, business, purchase, stripe_api
):
    stripe_api.retrieve(purchase, **PAID)
    verify(api, "GET", session_id=purchase.checkout_session_id)

    again = verify(api, "POST", session_id=purchase.checkout_session_id)

    assert (again.status_code, again.json()) == verify_answer(
        ALREADY_PROCESSED, purchase.payment_reference, credits_added=100.0, current_balance=100.0
    )
    assert len(stripe_api.mock.calls) == 1
    assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1


def test_verify_by_our_reference_works_for_a_stripe_purchase(api, business, purchase, stripe_api):
    stripe_api.retrieve(purchase, **PAID)

    response = verify(api, "GET", reference=purchase.payment_reference)

    assert response.status_code == 200 and response.json()["new_balance"] == 100
    assert len(stripe_api.calls_to("/v1/checkout/sessions/")) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_total": 649},
        {"amount_total": 65000},
        {"currency": "ghs"},
        {"client_reference_id": "AI-CREDIT-1700000000000-deadbeef"},
        {"client_reference_id": None},
    ],
    ids=["short", "hundredfold", "ghs", "another-reference", "no-reference"],
)
def test_a_paid_session_that_does_not_match_fails_the_purchase(
    api, business, purchase, stripe_api, changes
):
    stripe_api.retrieve(purchase, **{**PAID, **changes})

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == 400
    assert response.json()["status"] == "failed"
    assert response.json()["reference"] == purchase.payment_reference
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed" and "does not match" in purchase.failure_reason
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()


def test_an_open_unpaid_session_answers_failed_but_the_purchase_stays_pending(
    api, business, purchase, stripe_api
):
    """The payer may still finish the same checkout (or came back through cancel_url)."""
    stripe_api.retrieve(purchase)  # the created session as published: open, unpaid

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert (response.status_code, response.json()) == verify_answer(
        NOT_COMPLETED, purchase.payment_reference
    )
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and purchase.gateway_status == "open/unpaid"
    assert stored_balance(business) == 0


def test_a_complete_unpaid_session_is_202_pending(api, business, purchase, stripe_api):
    stripe_api.retrieve(purchase, status="complete", payment_status="unpaid")

    response = verify(api, "POST", session_id=purchase.checkout_session_id)

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response.json()["reference"] == purchase.payment_reference
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"


def test_an_expired_session_fails_the_purchase(api, business, purchase, stripe_api):
    stripe_api.retrieve(purchase, status="expired", payment_status="unpaid")

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == 400 and response.json()["status"] == "failed"
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed"


def test_no_payment_required_pays_for_nothing(api, business, purchase, stripe_api):
    stripe_api.retrieve(purchase, status="complete", payment_status="no_payment_required")

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == 202
    assert stored_balance(business) == 0


def test_another_business_s_session_is_404_and_stripe_is_not_asked(
    api, purchase, stripe_api, client_for
):
    stranger = BusinessFactory()
    theirs = StripePurchaseFactory(business=stranger)

    response = verify(api, "GET", session_id=theirs.checkout_session_id)

    assert (response.status_code, response.json()) == verify_answer(
        NOT_FOUND, theirs.checkout_session_id
    )
    assert not stripe_api.mock.calls


def test_an_unknown_session_is_404(api, purchase, stripe_api):
    response = verify(api, "GET", session_id="cs_test_not_ours")

    assert response.status_code == 404
    assert not stripe_api.mock.calls


@pytest.mark.parametrize(
    ("fault", "http_status"),
    [
        ({"exc": requests.exceptions.ReadTimeout()}, 504),
        ({"exc": requests.exceptions.ConnectionError()}, 502),
        ({"status": 500}, 502),
        ({"status": 503}, 502),
    ],
    ids=["timeout", "connection", "500", "503"],
)
def test_stripe_unreachable_is_an_error_and_the_purchase_stays_pending(
    api, business, purchase, stripe_api, fault, http_status, caplog
):
    caplog.set_level(logging.DEBUG)
    stripe_api.retrieve_error(purchase.checkout_session_id, **fault)

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == http_status
    body = response.json()
    assert body["status"] == "error" and body["message"]
    assert STRIPE_ERROR_MESSAGE not in caplog.text and STRIPE_TEST_KEY not in caplog.text
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"
    assert stored_balance(business) == 0


def test_a_session_stripe_does_not_know_leaves_the_purchase_pending(
    api, business, purchase, stripe_api
):
    """Regression: Stripe's 404 for the session (say, made with the other mode's key)
    answered 502 as if Stripe were down; it is the gateway having no such payment, as with
    Paystack's 404: "failed", and the purchase waits for reconciliation."""
    stripe_api.retrieve_error(
        purchase.checkout_session_id,
        status=404,
        body={
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": "No such checkout.session: 'cs_test_x'",
                "param": "session",
            }
        },
    )

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == 400 and response.json()["status"] == "failed"
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"


def test_a_purchase_whose_checkout_never_reached_stripe_is_not_asked_about(
    api, business, stripe_api, stripe_settings
):
    purchase = StripePurchaseFactory(business=business, checkout_session_id="")

    response = verify(api, "GET", reference=purchase.payment_reference)

    assert response.status_code == 400 and response.json()["status"] == "failed"
    assert not stripe_api.mock.calls
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"


def test_a_session_with_adaptive_pricing_details_is_credited(api, business, purchase, stripe_api):
    """Regression: the SDK turns `currency_conversion.fx_rate` into a Decimal, which the
    purchase's JSON column cannot store: verify answered 500."""
    stripe_api.retrieve(
        purchase,
        **PAID,
        currency_conversion={
            "amount_subtotal": 8190,
            "amount_total": 8190,
            "fx_rate": "12.6",
            "source_currency": "usd",
        },
    )

    response = verify(api, "GET", session_id=purchase.checkout_session_id)

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.gateway_response["currency_conversion"]["fx_rate"] == "12.6"
    assert stored_balance(business) == Decimal("100.00")


def test_the_retrieve_has_the_configured_timeout(api, purchase, stripe_api, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 3
    stripe_api.retrieve(purchase, **PAID)

    verify(api, "GET", session_id=purchase.checkout_session_id)

    (call,) = stripe_api.mock.calls
    assert call.request.req_kwargs["timeout"] == 3
