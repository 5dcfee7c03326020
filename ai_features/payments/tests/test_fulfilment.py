"""GET/POST /ai/api/credits/verify/ and the fulfilment service behind it (rules 7.2, 7.3, 7.6)."""

from decimal import Decimal

import pytest
import requests

from accounts.models import BusinessMembership
from ai_features.models import AICreditPurchase, CreditLedgerEntry
from ai_features.payments.tests.helpers import (
    ALREADY_PROCESSED,
    CREDITED,
    NOT_COMPLETED,
    NOT_FOUND,
    verify_answer,
)
from testing.clients import token_client
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, PurchaseFactory, UserFactory
from testing.paystack_api import BAD_AMOUNTS, paystack_json, with_amount

pytestmark = pytest.mark.django_db

PURCHASE = "/ai/api/credits/purchase/"
VERIFY = "/ai/api/credits/verify/"
BALANCE = "/ai/api/credits/balance/"


def verify(api, reference, *, method="get", param="reference"):
    if method == "get":
        return api.get(VERIFY, {param: reference})
    return api.post(VERIFY, {param: reference}, format="json")


@pytest.mark.parametrize(
    ("package", "custom_amount", "credits"),
    [
        ("starter", None, 30),
        ("value", None, 100),
        ("premium", None, 250),
        ("custom", "55.50", 55.5),
    ],
)
def test_buy_then_verify_credits_the_package(
    api, business, paystack, package, custom_amount, credits
):
    paystack.initialize_ok()
    body = {"package": package}
    if custom_amount:
        body["custom_amount"] = custom_amount
    reference = api.post(PURCHASE, body, format="json").json()["reference"]
    paystack.verify(reference)

    response = verify(api, reference)

    assert (response.status_code, response.json()) == verify_answer(
        CREDITED, reference, credits_added=credits, new_balance=credits
    )
    assert api.get(BALANCE).json()["balance"] == credits
    purchase = AICreditPurchase.objects.get(payment_reference=reference)
    assert purchase.payment_status == "completed" and purchase.completed_at is not None
    assert ledger_sum(business) == stored_balance(business) == Decimal(str(credits))


@pytest.mark.parametrize(
    ("method", "param"),
    [("get", "reference"), ("get", "trxref"), ("post", "reference"), ("post", "trxref")],
)
def test_verify_takes_reference_or_trxref_by_get_or_post(api, business, paystack, method, param):
    paystack.initialize_ok()
    reference = api.post(PURCHASE, {"package": "value"}, format="json").json()["reference"]
    paystack.verify(reference)

    response = verify(api, reference, method=method, param=param)

    assert response.status_code == 200
    assert response.json()["credits_added"] == 100
    assert api.get(BALANCE).json() == {
        "balance": 100,
        "expires_at": api.get(BALANCE).json()["expires_at"],
        "is_active": True,
    }


def test_verifying_again_says_already_processed_and_credits_once(api, business, paystack):
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference)
    verify(api, purchase.payment_reference)

    again = verify(api, purchase.payment_reference)

    assert (again.status_code, again.json()) == verify_answer(
        ALREADY_PROCESSED, purchase.payment_reference, credits_added=100, current_balance=100
    )
    assert stored_balance(business) == Decimal("100.00")
    assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
    assert len(paystack.calls_to("/transaction/verify")) == 1  # settled purchases ask no more


@pytest.mark.parametrize(
    "override",
    [{"amount": 9300}, {"amount": 940000}, {"currency": "NGN"}, {"currency": "USD"}],
)
def test_a_success_with_another_amount_or_currency_credits_nothing(
    api, business, paystack, override
):
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference, **override)

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 400
    assert response.json()["status"] == "failed"
    assert response.json()["reference"] == purchase.payment_reference
    assert "does not match" in response.json()["message"]
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed"
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()


@pytest.mark.parametrize("literal", BAD_AMOUNTS)
def test_a_verify_answer_with_a_bad_amount_credits_nothing_and_is_no_500(
    api, business, paystack, literal
):
    """Regression: a bare NaN reached the JSON column and the answer was 500."""
    purchase = PurchaseFactory(business=business)
    data = paystack.verify(purchase.payment_reference)
    raw = with_amount({"status": True, "message": "Verification successful", "data": data}, literal)
    paystack.mock.replace(
        "GET",
        f"{paystack.base}/transaction/verify/{purchase.payment_reference}",
        body=raw,
        content_type="application/json",
    )

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 400
    assert "does not match" in response.json()["message"]
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed" and purchase.gateway_response["status"] == "success"
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()


@pytest.mark.parametrize("gateway_status", ["failed", "reversed"])
def test_failed_and_reversed_payments_fail_the_purchase(api, business, paystack, gateway_status):
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference, status=gateway_status, gateway_response="Declined")

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 400
    assert response.json()["status"] == "failed"
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed" and "Declined" in purchase.failure_reason
    assert not CreditLedgerEntry.objects.exists()


def test_an_abandoned_checkout_is_refused_but_left_pending_for_reconciliation(
    api, business, paystack
):
    purchase = PurchaseFactory(business=business)
    abandoned = paystack_json("verify_abandoned_card_ghs.grottopress-haystack.json")
    abandoned["data"].update(reference=purchase.payment_reference, amount=9400)
    paystack.mock.get(
        f"{paystack.base}/transaction/verify/{purchase.payment_reference}", json=abandoned
    )

    response = verify(api, purchase.payment_reference)

    assert (response.status_code, response.json()) == verify_answer(
        NOT_COMPLETED, purchase.payment_reference
    )
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and purchase.gateway_status == "abandoned"
    assert not CreditLedgerEntry.objects.exists()


@pytest.mark.parametrize("gateway_status", ["pending", "ongoing", "processing", "queued"])
def test_a_payment_still_in_progress_answers_202(api, business, paystack, gateway_status):
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference, status=gateway_status)

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response.json()["reference"] == purchase.payment_reference
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and not CreditLedgerEntry.objects.exists()


def test_an_unknown_reference_is_404(api, paystack):
    response = verify(api, "AI-CREDIT-1-DEADBEEF")

    assert (response.status_code, response.json()) == verify_answer(
        NOT_FOUND, "AI-CREDIT-1-DEADBEEF"
    )
    assert not paystack.mock.calls


def test_another_business_reference_is_404_and_not_credited(api, paystack):
    other = BusinessFactory()
    theirs = PurchaseFactory(business=other)
    paystack.verify(theirs.payment_reference)

    response = verify(api, theirs.payment_reference)

    assert response.status_code == 404
    assert stored_balance(other) == 0
    assert not paystack.mock.calls


def test_verify_needs_a_reference(api):
    response = api.get(VERIFY)

    assert response.status_code == 400
    assert "reference" in response.json()


def test_a_purchase_paystack_never_saw_is_refused(api, business, paystack):
    purchase = PurchaseFactory(business=business)
    paystack.mock.get(
        f"{paystack.base}/transaction/verify/{purchase.payment_reference}",
        status=400,
        json={"status": False, "message": "Transaction reference not found"},
    )

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 400 and response.json()["status"] == "failed"
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"


@pytest.mark.parametrize(
    ("fault", "http_status"),
    [
        ({"body": requests.exceptions.ReadTimeout()}, 504),
        ({"body": requests.exceptions.ConnectTimeout()}, 504),
        ({"body": requests.exceptions.ConnectionError()}, 502),
        ({"status": 500, "json": {"status": False, "message": "Server error"}}, 502),
        ({"status": 401, "json": {"status": False, "message": "Invalid key"}}, 502),
        (
            {
                "status": 429,
                "json": {"status": False, "message": "Too many", "code": "rate_limited"},
            },
            502,
        ),
        ({"status": 200, "body": "{not json"}, 502),
    ],
)
def test_a_paystack_fault_on_verify_keeps_the_purchase_and_a_later_verify_credits(
    api, business, paystack, fault, http_status
):
    purchase = PurchaseFactory(business=business)
    url = f"{paystack.base}/transaction/verify/{purchase.payment_reference}"
    paystack.mock.get(url, **fault)

    failed = verify(api, purchase.payment_reference)

    assert failed.status_code == http_status
    assert failed.json()["status"] == "error"
    assert failed.json()["message"] and failed.json()["reference"] == purchase.payment_reference
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and stored_balance(business) == 0

    paystack.mock.remove("GET", url)
    paystack.verify(purchase.payment_reference)
    later = verify(api, purchase.payment_reference)

    assert later.status_code == 200 and later.json()["new_balance"] == 100


def test_a_genuine_success_still_credits_a_purchase_marked_failed(api, business, paystack):
    purchase = PurchaseFactory(
        business=business, status="failed", failure_reason="Declined earlier"
    )
    paystack.verify(purchase.payment_reference)

    response = verify(api, purchase.payment_reference)

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and purchase.failure_reason == ""
    assert stored_balance(business) == Decimal("100.00")


def test_members_of_the_business_may_verify_purchases_others_started(business, paystack):
    purchase = PurchaseFactory(business=business)
    colleague = UserFactory()
    BusinessMembership.objects.create(user=colleague, business=business, role="staff")
    paystack.verify(purchase.payment_reference)

    response = token_client(colleague).get(VERIFY, {"reference": purchase.payment_reference})

    assert response.status_code == 200
