"""POST /ai/api/credits/purchase/ with "gateway": "stripe": a pending purchase, then a Stripe
Checkout Session for it, through the real `stripe` SDK against a `responses` stand-in
(design section 13)."""

import logging
from decimal import Decimal

import pytest
import requests

from ai_features.models import AICreditPurchase, IdempotencyKey
from ai_features.payments.gateways.stripe import StripeNotConfigured, StripeService
from testing.stripe_api import (
    STRIPE_ERROR_MESSAGE,
    STRIPE_TEST_KEY,
    STRIPE_WEBHOOK_TEST_SECRET,
    stripe_json,
    stripe_priced,
)

pytestmark = pytest.mark.django_db

PURCHASE = "/ai/api/credits/purchase/"
PRICE_ID = stripe_json("price.one_time.json")["id"]


@pytest.fixture(autouse=True)
def _value_has_a_stripe_price(db):
    stripe_priced("value", "6.50")


def buy(api, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    request = {"package": "value", "gateway": "stripe", **body}
    return api.post(PURCHASE, request, format="json", **headers)


def test_a_stripe_purchase_answers_seed_003s_checkout_and_the_usd_invoice(
    api, business, stripe_api
):
    session = stripe_api.create_ok()

    response = buy(api)

    assert response.status_code == 201
    purchase = AICreditPurchase.objects.get()
    assert response.json() == {
        "checkout_url": session["url"],
        "session_id": session["id"],
        "reference": purchase.payment_reference,
        "amount": 6.5,
        "invoice": {
            "base_amount": 6.5,
            "taxes": [],
            "total_tax": 0.0,
            "total_amount": 6.5,
            "currency": "USD",
        },
        "credits_to_add": 100.0,
        "package": "value",
    }
    assert (purchase.gateway, purchase.payment_status, purchase.payment_method) == (
        "stripe",
        "pending",
        "card",
    )
    assert purchase.checkout_session_id == session["id"]
    assert purchase.authorization_url == session["url"]
    assert (purchase.total_amount, purchase.total_tax, purchase.currency) == (
        Decimal("6.50"),
        Decimal("0.00"),
        "USD",
    )
    assert purchase.tax_lines == [] and purchase.business == business


def test_what_is_sent_to_stripe_without_a_stripe_price_id(api, business, stripe_api):
    stripe_api.create_ok()

    buy(api)

    purchase = AICreditPurchase.objects.get()
    reference = purchase.payment_reference
    ids = {"purchase_id": str(purchase.pk), "business_id": str(business.pk), "reference": reference}
    assert stripe_api.sent_form() == {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "650",  # cents
        "line_items[0][price_data][product_data][name]": "AI credits: value",
        "client_reference_id": reference,
        "customer_email": purchase.user.email,
        # Stripe's own placeholder reaches it literally, to be filled with the session id.
        "success_url": "http://localhost:5173/payment/callback?gateway=stripe"
        "&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://localhost:5173/payment/callback?gateway=stripe&cancelled=1"
        f"&reference={reference}",
        **{f"metadata[{key}]": value for key, value in ids.items()},
        **{f"payment_intent_data[metadata][{key}]": value for key, value in ids.items()},
    }
    (call,) = stripe_api.calls_to("/v1/checkout/sessions")
    assert call.request.headers["Idempotency-Key"] == f"checkout-session:{reference}"
    assert call.request.headers["Authorization"] == f"Bearer {STRIPE_TEST_KEY}"


def test_a_package_with_a_stripe_price_id_is_sold_at_that_price(api, stripe_api):
    stripe_priced("value", "6.50", price_id=PRICE_ID)
    session = stripe_api.create_ok(amount_total=650, amount_subtotal=650)

    response = buy(api)

    assert response.status_code == 201 and response.json()["session_id"] == session["id"]
    sent = stripe_api.sent_form()
    assert sent["line_items[0][price]"] == PRICE_ID
    assert sent["line_items[0][quantity]"] == "1"
    assert not any("price_data" in key for key in sent)
    assert len(stripe_api.mock.calls) == 1


@pytest.mark.parametrize(
    "charged", [{"amount_total": 2198}, {"currency": "eur"}], ids=["amount", "currency"]
)
def test_a_stripe_price_that_charges_another_amount_is_not_offered_to_the_payer(
    api, stripe_api, caplog, charged
):
    """Regression: a package's Stripe price changed in the admin kept its old Price id, so the
    payer was charged the old amount, and the payment was then failed as a mismatch: money
    taken, no credits. That checkout is now expired and the package's own price charged."""
    stripe_priced("value", "6.50", price_id=PRICE_ID)
    stale = stripe_json("checkout_session.created.json")
    stale.update({"id": "cs_test_stale_price", "amount_total": 650, "currency": "usd", **charged})
    right = stripe_json("checkout_session.created.json")
    right.update(id="cs_test_price_data", amount_total=650, currency="usd")
    stripe_api.mock.post(f"{stripe_api.base}/v1/checkout/sessions", json=stale)
    stripe_api.mock.post(f"{stripe_api.base}/v1/checkout/sessions", json=right)
    expire = stripe_api.mock.post(
        f"{stripe_api.base}/v1/checkout/sessions/cs_test_stale_price/expire",
        json={**stale, "status": "expired"},
    )

    response = buy(api)

    assert response.status_code == 201 and response.json()["session_id"] == "cs_test_price_data"
    assert expire.call_count == 1
    first, second = stripe_api.sent_form(0), stripe_api.sent_form(-1)
    assert first["line_items[0][price]"] == PRICE_ID
    assert second["line_items[0][price_data][unit_amount]"] == "650"
    assert "line_items[0][price]" not in second
    reference = AICreditPurchase.objects.get().payment_reference
    keys = [c.request.headers["Idempotency-Key"] for c in stripe_api.calls_to("/v1/checkout")]
    assert keys[0] == f"checkout-session:{reference}"
    assert keys[-1] == f"checkout-session:{reference}:price-data"
    assert AICreditPurchase.objects.get().checkout_session_id == "cs_test_price_data"
    assert "stripe price does not charge the package price" in caplog.text


def test_a_failed_expiry_of_the_stale_checkout_does_not_stop_the_purchase(api, stripe_api):
    stripe_priced("value", "6.50", price_id=PRICE_ID)
    stale = stripe_json("checkout_session.created.json")
    stale.update(id="cs_test_stale_price", amount_total=2198)
    right = {**stale, "id": "cs_test_price_data", "amount_total": 650}
    stripe_api.mock.post(f"{stripe_api.base}/v1/checkout/sessions", json=stale)
    stripe_api.mock.post(f"{stripe_api.base}/v1/checkout/sessions", json=right)
    stripe_api.mock.post(
        f"{stripe_api.base}/v1/checkout/sessions/cs_test_stale_price/expire", status=500, json={}
    )

    response = buy(api)

    assert response.status_code == 201 and response.json()["session_id"] == "cs_test_price_data"


def test_allowed_success_and_cancel_urls_are_passed_on_as_given(api, stripe_api, settings):
    settings.PAYMENT_CALLBACK_ALLOWED_HOSTS = ["localhost", "pos.example.com"]
    stripe_api.create_ok()
    success = "https://pos.example.com/paid?session_id={CHECKOUT_SESSION_ID}"
    # Regression: "REF" anywhere in a cancel_url was replaced by the purchase reference, so a
    # page such as /REFUNDS/ was sent to Stripe as /AI-CREDIT-...UNDS/.
    cancel = "https://pos.example.com/REFUNDS/?why=REF"

    response = buy(api, success_url=success, cancel_url=cancel)

    assert response.status_code == 201
    sent = stripe_api.sent_form()
    assert (sent["success_url"], sent["cancel_url"]) == (success, cancel)
    assert AICreditPurchase.objects.get().callback_url == success


def test_the_default_cancel_url_names_the_reference_even_if_the_frontend_says_ref(
    api, stripe_api, settings
):
    """Regression: the default cancel URL's placeholder was the bare word REF, replaced
    anywhere in the URL, FRONTEND_URL included."""
    settings.FRONTEND_URL = "https://REFILL.example.com"
    settings.PAYMENT_CALLBACK_ALLOWED_HOSTS = ["refill.example.com"]
    stripe_api.create_ok()

    assert buy(api).status_code == 201

    reference = AICreditPurchase.objects.get().payment_reference
    assert stripe_api.sent_form()["cancel_url"] == (
        "https://REFILL.example.com/payment/callback?gateway=stripe&cancelled=1"
        f"&reference={reference}"
    )


@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/payment/callback",
        "https://localhost.evil.example.com/cb",
        "http://evil.example\\@localhost:5173/payment/callback",
        "http://user:pass@localhost:5173/payment/callback",
    ],
)
def test_a_return_url_on_another_host_is_refused_and_nothing_is_created(
    api, stripe_api, field, url
):
    response = buy(api, **{field: url})

    assert response.status_code == 400
    assert response.json()["code"] == "callback_url_not_allowed"
    assert not AICreditPurchase.objects.exists()
    assert not stripe_api.mock.calls


@pytest.mark.parametrize(
    "body",
    [
        {"package": "custom", "custom_amount": "50.00"},
        {"package": "premium"},  # no price in the Stripe currency
    ],
    ids=["custom", "no-stripe-price"],
)
def test_what_stripe_does_not_sell_is_refused_and_nothing_is_created(api, stripe_api, body):
    response = buy(api, **body)

    assert response.status_code == 400
    assert response.json()["code"] == "not_sold_through_stripe"
    assert not AICreditPurchase.objects.exists()
    assert not stripe_api.mock.calls


def test_only_paystack_takes_channels(api, stripe_api):
    response = buy(api, channels=["card"])

    assert response.status_code == 400 and "channels" in response.json()
    assert not AICreditPurchase.objects.exists()


def test_without_a_stripe_secret_key_purchases_answer_503_and_create_nothing(
    api, stripe_api, settings
):
    settings.STRIPE_SECRET_KEY = ""

    response = buy(api)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_gateway_not_configured"
    assert not AICreditPurchase.objects.exists()
    assert not stripe_api.mock.calls


@pytest.mark.parametrize(
    ("fault", "http_status", "code"),
    [
        ({"exc": requests.exceptions.ReadTimeout()}, 504, "payment_gateway_timeout"),
        ({"exc": requests.exceptions.ConnectTimeout()}, 504, "payment_gateway_timeout"),
        ({"exc": requests.exceptions.ConnectionError()}, 502, "payment_gateway_unreachable"),
        ({"status": 500}, 502, "payment_gateway_error"),
        ({"status": 429}, 502, "payment_gateway_error"),
        (
            {
                "status": 401,
                "body": {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided: sk_test_****0000",
                    }
                },
            },
            502,
            "payment_gateway_rejected",
        ),
        (
            {
                "status": 400,
                "body": {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": "line_items[0][price]",
                        "message": "No such price: 'price_gone'",
                    }
                },
            },
            502,
            "payment_gateway_rejected",
        ),
    ],
)
def test_a_stripe_fault_is_a_clear_error_and_the_purchase_is_kept_pending(
    api, stripe_api, fault, http_status, code
):
    stripe_api.create_error(**fault)

    response = buy(api)

    assert response.status_code == http_status
    body = response.json()
    assert body["code"] == code and body["detail"]
    assert "sk_test" not in body["detail"] and "price_gone" not in body["detail"]
    purchase = AICreditPurchase.objects.get()
    assert purchase.payment_status == "pending"
    assert purchase.gateway_status == "initialize_error"
    assert purchase.failure_reason.startswith("Stripe checkout failed")
    assert not purchase.checkout_session_id


def test_network_failures_are_retried_once_with_the_same_idempotency_key(api, stripe_api):
    stripe_api.create_error(exc=requests.exceptions.ConnectionError())

    buy(api)

    calls = stripe_api.calls_to("/v1/checkout/sessions")
    assert len(calls) == 2
    assert {c.request.headers["Idempotency-Key"] for c in calls} == {
        f"checkout-session:{AICreditPurchase.objects.get().payment_reference}"
    }


def test_every_call_to_stripe_has_the_configured_timeout(api, stripe_api, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 7.5
    stripe_api.create_ok()

    buy(api)

    (call,) = stripe_api.calls_to("/v1/checkout/sessions")
    assert call.request.req_kwargs["timeout"] == 7.5


def test_stripe_is_called_at_stripe_api_base(api, stripe_api, settings):
    stripe_api.create_ok()

    buy(api)

    (call,) = stripe_api.mock.calls
    assert call.request.url == "https://stripe.api.test/v1/checkout/sessions"


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 402, "body": {"error": {"type": "card_error", "message": STRIPE_ERROR_MESSAGE}}},
        {
            "status": 401,
            "body": {"error": {"type": "invalid_request_error", "message": STRIPE_ERROR_MESSAGE}},
        },
        {"exc": requests.exceptions.ConnectionError(STRIPE_ERROR_MESSAGE)},
    ],
    ids=["500", "402", "401", "connection"],
)
def test_stripe_errors_never_log_the_sdks_message_or_the_keys(api, stripe_api, caplog, fault):
    """Regression: the SDK's own logger wrote Stripe's error message (which may quote the
    request or part of the key) at INFO, and the root logger printed it."""
    caplog.set_level(logging.DEBUG)
    stripe_api.create_error(**fault)

    response = buy(api)

    assert response.status_code in {502, 504}
    assert "stripe call failed" in caplog.text  # our own line: type and status only
    for secret in (STRIPE_ERROR_MESSAGE, "leaked_by_the_sdk", STRIPE_TEST_KEY):
        assert secret not in caplog.text
    assert STRIPE_WEBHOOK_TEST_SECRET not in caplog.text


def test_a_successful_purchase_logs_neither_key_nor_buyer_email(api, user, stripe_api, caplog):
    caplog.set_level(logging.DEBUG)
    stripe_api.create_ok()

    assert buy(api).status_code == 201

    assert "purchase started" in caplog.text
    assert STRIPE_TEST_KEY not in caplog.text and user.email not in caplog.text


def test_the_service_refuses_to_start_without_a_key(settings):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(StripeNotConfigured) as caught:
        StripeService()

    assert caught.value.code == "payment_gateway_not_configured"
    assert caught.value.status_code == 503


def test_the_same_idempotency_key_and_body_replays_the_first_stripe_answer(api, stripe_api):
    stripe_api.create_ok()

    first = buy(api, key="key-1")
    again = buy(api, key="key-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert "checkout_url" in again.json()
    assert AICreditPurchase.objects.count() == 1
    assert len(stripe_api.calls_to("/v1/checkout/sessions")) == 1


@pytest.mark.parametrize(
    "other",
    [{"gateway": "paystack"}, {"success_url": "http://localhost:5173/other"}],
    ids=["other-gateway", "other-success-url"],
)
def test_the_same_idempotency_key_with_another_stripe_body_is_409(
    api, stripe_api, paystack_settings, other
):
    stripe_api.create_ok()
    assert buy(api, key="key-1").status_code == 201

    response = buy(api, key="key-1", **other)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert AICreditPurchase.objects.count() == 1


def test_a_key_whose_stripe_attempt_failed_may_be_retried(api, stripe_api):
    stripe_api.create_error(status=500)
    assert buy(api, key="key-1").status_code == 502
    stripe_api.mock.replace(
        "POST",
        f"{stripe_api.base}/v1/checkout/sessions",
        json=stripe_json("checkout_session.created.json"),
    )

    retried = buy(api, key="key-1")

    assert retried.status_code == 201
    assert IdempotencyKey.objects.get().purchase.payment_reference == (retried.json()["reference"])
    # The retry is a new purchase, so a new Stripe key: Stripe replays a stored 500 per key.
    first, second = stripe_api.calls_to("/v1/checkout/sessions")[::2]
    assert first.request.headers["Idempotency-Key"] != second.request.headers["Idempotency-Key"]
