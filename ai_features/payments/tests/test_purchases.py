"""POST /ai/api/credits/purchase/: a pending purchase, then a Paystack checkout for it."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from ai_features import idempotency
from ai_features.models import AICreditPurchase, IdempotencyKey
from ai_features.payments.openapi import CHECKOUT_OPENED
from testing.factories import IdempotencyKeyFactory

pytestmark = pytest.mark.django_db

PURCHASE = "/ai/api/credits/purchase/"


def buy(api, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(PURCHASE, {"package": "value", **body}, format="json", **headers)


def sent_to_paystack(paystack):
    (call,) = paystack.calls_to("/transaction/initialize")
    return json.loads(call.request.body)


def test_value_purchase_creates_a_pending_purchase_and_a_94_ghs_checkout(api, business, paystack):
    checkout = paystack.initialize_ok()

    response = buy(api)

    assert response.status_code == 201
    body = response.json()
    purchase = AICreditPurchase.objects.get()
    # The answer is the documented example, but for what is this checkout's own.
    assert body == {
        **CHECKOUT_OPENED,
        "authorization_url": checkout["authorization_url"],
        "access_code": checkout["access_code"],
        "reference": purchase.payment_reference,
    }
    assert (body["amount"], body["invoice"]["total_tax"], body["credits_to_add"]) == (94, 14, 100)
    sent = sent_to_paystack(paystack)
    assert sent["amount"] == 9400 and sent["currency"] == "GHS"
    assert sent["reference"] == purchase.payment_reference
    assert "channels" not in sent  # the payer picks card, mobile money or transfer at Paystack
    assert sent["callback_url"] == "http://localhost:5173/payment/callback"
    assert sent["email"] == purchase.user.email
    assert sent["metadata"] == {
        "purchase_id": purchase.pk,
        "business_id": business.pk,
        "credits": "100.00",
    }
    assert purchase.payment_status == "pending" and purchase.business == business
    assert (purchase.amount_paid, purchase.total_tax, purchase.total_amount) == (
        Decimal("80.00"),
        Decimal("14.00"),
        Decimal("94.00"),
    )


@pytest.mark.parametrize("method", ["mobile_money", "card"])
def test_payment_method_is_recorded_but_does_not_narrow_the_checkout(api, paystack, method):
    """Regression: the seed's SPA always sends mobile_money, and channels=[mobile_money] then
    hid card and bank transfer on Paystack's page."""
    paystack.initialize_ok()

    assert buy(api, payment_method=method).status_code == 201

    assert "channels" not in sent_to_paystack(paystack)
    assert AICreditPurchase.objects.get().payment_method == method


@pytest.mark.parametrize("channels", [["card"], ["mobile_money", "bank_transfer"], ["ussd", "qr"]])
def test_channels_named_in_the_request_narrow_the_checkout(api, paystack, channels):
    paystack.initialize_ok()

    response = buy(api, payment_method="mobile_money", channels=channels)

    assert response.status_code == 201
    assert sent_to_paystack(paystack)["channels"] == channels
    assert AICreditPurchase.objects.get().payment_method == "mobile_money"


def test_null_channels_count_as_not_given(api, paystack):
    paystack.initialize_ok()

    assert buy(api, channels=None).status_code == 201

    assert "channels" not in sent_to_paystack(paystack)


@pytest.mark.parametrize(
    "channels",
    [[], ["bitcoin"], ["card", "card"], "card", [1], ["CARD"], [["card"]], ["card"] * 11],
)
def test_channels_outside_paystacks_names_are_field_errors(api, paystack, channels):
    response = buy(api, channels=channels)

    assert response.status_code == 400
    assert "channels" in response.json()
    assert not AICreditPurchase.objects.exists()
    assert not paystack.mock.calls


def test_the_201_carries_the_amount_charged_as_a_number(api, paystack):
    paystack.initialize_ok()

    body = buy(api, package="custom", custom_amount="123.45").json()

    purchase = AICreditPurchase.objects.get()
    assert body["amount"] == float(purchase.total_amount) == body["invoice"]["total_amount"]
    assert isinstance(body["amount"], float)
    assert sent_to_paystack(paystack)["amount"] == round(body["amount"] * 100)


def test_custom_amount_buys_that_many_credits(api, paystack):
    paystack.initialize_ok()

    response = buy(api, package="custom", custom_amount="123.45")

    assert response.status_code == 201
    assert response.json()["credits_to_add"] == 123.45
    assert response.json()["invoice"]["total_amount"] == 145.06  # 123.45 + 15.43 + 3.09 * 2
    assert sent_to_paystack(paystack)["amount"] == 14506


def test_an_allowed_callback_url_is_passed_on(api, paystack, settings):
    settings.PAYMENT_CALLBACK_ALLOWED_HOSTS = ["localhost", "pos.example.com"]
    paystack.initialize_ok()

    buy(api, callback_url="https://pos.example.com/payment/callback")

    assert sent_to_paystack(paystack)["callback_url"] == "https://pos.example.com/payment/callback"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/payment/callback",
        "https://localhost.evil.example.com/cb",
        "ftp://localhost/payment/callback",
        # Regression: Python reads the host as localhost, Chromium as evil.example.
        "http://evil.example\\@localhost:5173/payment/callback",
        "http://user:pass@localhost:5173/payment/callback",
    ],
)
def test_a_callback_url_on_another_host_is_refused_and_nothing_is_created(api, paystack, url):
    response = buy(api, callback_url=url)

    assert response.status_code == 400
    assert response.json()["code"] == "callback_url_not_allowed"
    assert not AICreditPurchase.objects.exists()
    assert not paystack.mock.calls


def test_a_callback_that_is_not_a_url_is_a_field_error(api, paystack):
    response = buy(api, callback_url="javascript:alert(1)")

    assert response.status_code == 400
    assert "callback_url" in response.json()
    assert not AICreditPurchase.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"package": "custom", "custom_amount": "9.99"}, "custom_amount"),
        ({"package": "custom", "custom_amount": "10000.01"}, "custom_amount"),
        ({"package": "custom"}, "custom_amount"),
        ({"package": "custom", "custom_amount": "12.345"}, "custom_amount"),
        ({"package": "value", "custom_amount": "50"}, "custom_amount"),
        ({"package": "value", "payment_method": "bitcoin"}, "payment_method"),
        ({}, "package"),
        ({"package": "value", "success_url": "http://localhost:5173/paid"}, "success_url"),
        ({"package": "value", "cancel_url": "http://localhost:5173/no"}, "success_url"),
    ],
)
def test_invalid_purchase_bodies_get_field_errors_and_change_nothing(api, paystack, body, field):
    response = api.post(PURCHASE, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not AICreditPurchase.objects.exists()
    assert not paystack.mock.calls


def test_custom_amount_at_the_bounds_is_accepted(api, paystack):
    paystack.initialize_ok()

    assert buy(api, package="custom", custom_amount="10.00").status_code == 201
    assert buy(api, package="custom", custom_amount="10000.00").status_code == 201


def test_an_unknown_package_is_refused(api, paystack):
    response = buy(api, package="gold")

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_package"
    assert not AICreditPurchase.objects.exists()


def test_without_a_secret_key_purchases_answer_503_and_create_nothing(api, settings):
    settings.PAYSTACK_SECRET_KEY = ""

    response = buy(api)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_gateway_not_configured"
    assert not AICreditPurchase.objects.exists()


@pytest.mark.parametrize(
    ("fault", "http_status", "code"),
    [
        ({"body": requests.exceptions.ReadTimeout()}, 504, "payment_gateway_timeout"),
        ({"body": requests.exceptions.ConnectionError()}, 502, "payment_gateway_unreachable"),
        (
            {"status": 500, "json": {"status": False, "message": "oops"}},
            502,
            "payment_gateway_error",
        ),
        (
            {"status": 401, "json": {"status": False, "message": "Invalid key"}},
            502,
            "payment_gateway_auth_failed",
        ),
        (
            {"status": 429, "json": {"status": False, "message": "slow", "code": "rate_limited"}},
            502,
            "payment_gateway_busy",
        ),
        ({"status": 200, "body": "<html>not json</html>"}, 502, "payment_gateway_bad_response"),
    ],
)
def test_a_paystack_fault_is_a_clear_error_and_the_purchase_is_kept(
    api, paystack, fault, http_status, code
):
    paystack.mock.post(f"{paystack.base}/transaction/initialize", **fault)

    response = buy(api)

    assert response.status_code == http_status
    assert response.json()["code"] == code and response.json()["detail"]
    purchase = AICreditPurchase.objects.get()
    assert purchase.payment_status == "pending"
    assert purchase.gateway_status == "initialize_error"
    assert purchase.failure_reason.startswith("Paystack checkout failed")

    # A timeout may hide a checkout Paystack did open and the customer paid: verify credits it.
    paystack.verify(purchase.payment_reference)
    verified = api.get("/ai/api/credits/verify/", {"reference": purchase.payment_reference})
    assert verified.status_code == 200 and verified.json()["new_balance"] == 100
    assert api.get("/ai/api/credits/balance/").json()["balance"] == 100


def test_the_same_idempotency_key_and_body_replays_the_first_answer(api, paystack):
    paystack.initialize_ok()

    first = buy(api, key="key-1")
    again = buy(api, key="key-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert AICreditPurchase.objects.count() == 1
    assert len(paystack.calls_to("/transaction/initialize")) == 1


def test_the_same_idempotency_key_with_another_body_is_409(api, paystack):
    paystack.initialize_ok()
    buy(api, key="key-1")

    response = buy(api, package="premium", key="key-1")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert AICreditPurchase.objects.count() == 1


def test_the_same_idempotency_key_with_other_channels_is_409(api, paystack):
    paystack.initialize_ok()
    assert buy(api, key="key-1").status_code == 201

    response = buy(api, key="key-1", channels=["card"])

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert len(paystack.calls_to("/transaction/initialize")) == 1


def test_different_idempotency_keys_make_different_purchases(api, paystack):
    paystack.initialize_ok()

    buy(api, key="key-1")
    buy(api, key="key-2")

    assert AICreditPurchase.objects.count() == 2


def test_a_key_whose_first_attempt_failed_at_paystack_may_be_retried(api, paystack):
    paystack.mock.post(f"{paystack.base}/transaction/initialize", status=500, json={})
    assert buy(api, key="key-1").status_code == 502
    paystack.mock.replace(
        "POST",
        f"{paystack.base}/transaction/initialize",
        json={
            "status": True,
            "message": "Authorization URL created",
            "data": {"authorization_url": "https://checkout.paystack.com/x", "access_code": "x"},
        },
    )

    retried = buy(api, key="key-1")

    assert retried.status_code == 201
    assert IdempotencyKey.objects.get().purchase.payment_reference == (retried.json()["reference"])


def claim_in_progress(user, business, key, **overrides):
    """The row a first request with `key` leaves while its Paystack call is still running."""
    body = {
        "business": business.pk,
        "package": "value",
        "custom_amount": None,
        "payment_method": "mobile_money",
        "callback_url": None,
        "channels": None,
        "gateway": "paystack",
        "success_url": None,
        "cancel_url": None,
        **overrides,
    }
    return IdempotencyKeyFactory(
        scope="purchase",
        user=user,
        business=business,
        key=key,
        fingerprint=idempotency.request_fingerprint(**body),
    )


def test_a_key_still_in_progress_is_409(api, paystack, user, business):
    claim_in_progress(user, business, "key-1")

    response = buy(api, key="key-1")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert not AICreditPurchase.objects.exists()


def test_a_claim_left_by_a_crash_is_taken_over_after_five_minutes(api, paystack, user, business):
    claim = claim_in_progress(user, business, "key-1")
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    paystack.initialize_ok()

    response = buy(api, key="key-1")

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().purchase.payment_reference == (response.json()["reference"])


def test_idempotency_keys_belong_to_one_user(api, paystack, client_for):
    from testing.factories import BusinessFactory, UserFactory

    paystack.initialize_ok()
    someone = UserFactory()
    BusinessFactory(owner=someone)
    buy(api, key="shared")

    theirs = buy(client_for(someone), key="shared")

    assert theirs.status_code == 201
    assert AICreditPurchase.objects.count() == 2


def test_an_idempotency_key_over_255_characters_is_refused_not_cut(api, paystack):
    # Regression: keys were cut to 255 characters, so two long keys sharing a prefix collided.
    paystack.initialize_ok()
    prefix = "k" * 255

    first = buy(api, key=prefix + "a")
    second = buy(api, key=prefix + "b")

    assert first.status_code == second.status_code == 400
    assert first.json()["code"] == "invalid_idempotency_key"
    assert not AICreditPurchase.objects.exists()
    assert not paystack.calls_to("/transaction/initialize")


def test_an_idempotency_key_of_exactly_255_characters_is_kept_whole(api, paystack):
    paystack.initialize_ok()

    assert buy(api, key="k" * 255).status_code == 201
    assert IdempotencyKey.objects.get().key == "k" * 255
