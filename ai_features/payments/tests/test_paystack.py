"""PaystackService against published Paystack payloads; every HTTP call is mocked by `responses`."""

import json
import logging

import pytest
import requests
import responses
from responses import matchers

from ai_features.payments.errors import GatewayError, GatewayNotConfigured, GatewayTimeout
from ai_features.payments.gateways.paystack import (
    PaystackAuthError,
    PaystackBadResponse,
    PaystackConnectionError,
    PaystackError,
    PaystackNotConfigured,
    PaystackNotFound,
    PaystackRateLimited,
    PaystackRequestError,
    PaystackServerError,
    PaystackService,
    PaystackTimeout,
)
from testing.paystack_api import TEST_SECRET, paystack_json, paystack_raw

BASE = "https://api.paystack.test"
LOGGER = "ai_features.payments.gateways.paystack"
REFERENCE = "AI-CREDIT-1715000000000-0A1B2C3D"
INIT_URL = f"{BASE}/transaction/initialize"
VERIFY_URL = f"{BASE}/transaction/verify/{REFERENCE}"
INIT_KWARGS = {
    "email": "owner@example.com",
    "amount": 9400,
    "currency": "GHS",
    "reference": REFERENCE,
    "callback_url": "https://app.example.com/ai-credits/return",
    "channels": ["card", "mobile_money"],
    "metadata": {"business_id": 7, "package": "starter"},
}
PROVIDERS = [
    {"name": "MTN", "code": "MTN", "type": "mobile_money", "currency": "GHS", "active": True},
    {"name": "Vodafone", "code": "VOD", "type": "mobile_money", "currency": "GHS", "active": True},
]


@pytest.fixture
def mocked():
    """Every HTTP call goes to `responses`; anything unregistered fails instead of going out."""
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def service(paystack_settings):
    return PaystackService()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return caplog


def ok(data, message="Verification successful"):
    return {"status": True, "message": message, "data": data}


def initialize(service):
    return service.initialize_transaction(**INIT_KWARGS)


def verify(service):
    return service.verify_transaction(reference=REFERENCE)


OPERATIONS = {
    "initialize": (initialize, responses.POST, INIT_URL),
    "verify": (verify, responses.GET, VERIFY_URL),
}


def assert_no_secret(*texts):
    for text in texts:
        assert TEST_SECRET not in text
        assert "Bearer" not in text


def assert_logs_clean(caplog):
    assert caplog.records, "expected the call to be logged"
    for record in caplog.records:
        assert_no_secret(record.getMessage(), str(record.args), record.exc_text or "")
    assert_no_secret(caplog.text)


# --- initialize ------------------------------------------------------------------------------


def test_initialize_sends_body_and_bearer_and_returns_data(service, mocked, logs):
    fixture = paystack_json("initialize_success.paystack-docs.json")
    mocked.add(
        responses.POST,
        INIT_URL,
        json=fixture,
        match=[
            matchers.json_params_matcher(INIT_KWARGS),
            matchers.header_matcher(
                {
                    "Authorization": f"Bearer {TEST_SECRET}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                }
            ),
        ],
    )

    data = initialize(service)

    assert data == fixture["data"]
    assert data["authorization_url"] == "https://checkout.paystack.com/nkdks46nymizns7"
    sent = json.loads(mocked.calls[0].request.body)
    assert type(sent["amount"]) is int and sent["amount"] == 9400
    assert sent["channels"] == ["card", "mobile_money"]
    assert sent["metadata"] == {"business_id": 7, "package": "starter"}
    assert sent["callback_url"] == INIT_KWARGS["callback_url"]
    assert sent["reference"] == REFERENCE
    info = [r for r in logs.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert len(info) == 1
    assert "POST /transaction/initialize status=200" in info[0].getMessage()
    assert "elapsed_ms=" in info[0].getMessage()
    assert_logs_clean(logs)


@pytest.mark.parametrize("amount", [94.0, "9400", True, None])
def test_initialize_refuses_non_int_amount_before_any_http(service, mocked, amount):
    with pytest.raises(TypeError):
        service.initialize_transaction(**{**INIT_KWARGS, "amount": amount})
    assert len(mocked.calls) == 0


# --- verify ----------------------------------------------------------------------------------


def test_verify_returns_data_of_successful_mobile_money_payment(service, mocked):
    data = paystack_json("verify_data_success_mobile_money_ghs.jsonb-reordered.json")
    mocked.add(responses.GET, VERIFY_URL, json=ok(data))

    result = verify(service)

    assert result == data
    assert result["status"] == "success"
    assert result["currency"] == "GHS"
    assert mocked.calls[0].request.headers["Authorization"] == f"Bearer {TEST_SECRET}"


def test_verify_returns_abandoned_payment_without_raising(service, mocked):
    fixture = paystack_json("verify_abandoned_card_ghs.grottopress-haystack.json")
    mocked.add(responses.GET, f"{BASE}/transaction/verify/yyj9asumly", json=fixture)

    result = service.verify_transaction(reference="yyj9asumly")

    assert result == fixture["data"]
    assert result["status"] == "abandoned"
    assert result["paid_at"] is None


def test_verify_url_quotes_the_reference(service, mocked):
    mocked.add(responses.GET, f"{BASE}/transaction/verify/ref%3D1%2F2%203", json=ok({"id": 1}))

    assert service.verify_transaction(reference="ref=1/2 3") == {"id": 1}
    assert mocked.calls[0].request.url == f"{BASE}/transaction/verify/ref%3D1%2F2%203"


# --- faults ----------------------------------------------------------------------------------

FAULTS = {
    "read_timeout": ({"body": requests.exceptions.ReadTimeout()}, PaystackTimeout, 504),
    "connect_timeout": ({"body": requests.exceptions.ConnectTimeout()}, PaystackTimeout, 504),
    "connection_error": (
        {"body": requests.exceptions.ConnectionError("refused")},
        PaystackConnectionError,
        502,
    ),
    "http_500": ({"status": 500, "body": "Internal Server Error"}, PaystackServerError, 502),
    "http_503_json": (
        {"status": 503, "json": {"status": False, "message": "Service unavailable"}},
        PaystackServerError,
        502,
    ),
    "http_401": (
        {
            "status": 401,
            "json": paystack_json("error_401_invalid_key.paystack-openapi.transcribed.json"),
        },
        PaystackAuthError,
        502,
    ),
    "http_429": (
        {
            "status": 429,
            "json": {"status": False, "message": "Rate limit exceeded", "code": "rate_limited"},
        },
        PaystackRateLimited,
        502,
    ),
    "invalid_json": ({"status": 200, "body": "<html>oops</html>"}, PaystackBadResponse, 502),
    "json_list": ({"status": 200, "json": [1, 2, 3]}, PaystackBadResponse, 502),
    "missing_data": (
        {"status": 200, "json": {"status": True, "message": "ok"}},
        PaystackBadResponse,
        502,
    ),
    "status_false_on_200": (
        {"status": 200, "json": {"status": False, "message": "Something went wrong"}},
        PaystackRequestError,
        502,
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_faults_map_to_typed_errors_without_leaking_the_key(
    service, mocked, logs, operation, fault
):
    call, method, url = OPERATIONS[operation]
    response_kwargs, error_class, status_code = FAULTS[fault]
    mocked.add(method, url, **response_kwargs)

    with pytest.raises(error_class) as caught:
        call(service)

    error = caught.value
    assert isinstance(error, PaystackError)
    assert isinstance(error, GatewayError)
    assert error.status_code == status_code
    assert error.detail and str(error) == error.detail
    assert_no_secret(str(error), error.detail, repr(error))
    assert_logs_clean(logs)
    warnings = [r for r in logs.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert error_class.__name__ in warnings[0].getMessage()


def test_error_codes_and_statuses():
    expected = {
        PaystackError: (502, "payment_gateway_error"),
        PaystackNotConfigured: (503, "payment_gateway_not_configured"),
        PaystackTimeout: (504, "payment_gateway_timeout"),
        PaystackConnectionError: (502, "payment_gateway_unreachable"),
        PaystackRateLimited: (502, "payment_gateway_busy"),
        PaystackAuthError: (502, "payment_gateway_auth_failed"),
        PaystackServerError: (502, "payment_gateway_error"),
        PaystackBadResponse: (502, "payment_gateway_bad_response"),
        PaystackRequestError: (502, "payment_gateway_rejected"),
        PaystackNotFound: (502, "payment_not_found_at_gateway"),
    }
    for error_class, (status_code, code) in expected.items():
        error = error_class(http_status=418, paystack_code="teapot")
        assert (error.status_code, error.code) == (status_code, code)
        assert (error.http_status, error.paystack_code) == (418, "teapot")
        assert error.detail == error_class.default_detail
    assert issubclass(PaystackTimeout, GatewayTimeout)
    assert issubclass(PaystackNotConfigured, GatewayNotConfigured)
    assert issubclass(PaystackNotFound, PaystackRequestError)
    assert PaystackError().http_status is None and PaystackError().paystack_code is None


def test_auth_error_says_our_credentials_were_refused(service, mocked):
    body = paystack_json("error_401_invalid_key.paystack-openapi.transcribed.json")
    mocked.add(responses.GET, VERIFY_URL, status=401, json=body)

    with pytest.raises(PaystackAuthError) as caught:
        verify(service)

    assert "credentials" in caught.value.detail
    assert caught.value.http_status == 401


def test_rate_limit_keeps_paystack_code(service, mocked):
    body = {"status": False, "message": "Rate limit exceeded", "code": "rate_limited"}
    mocked.add(responses.POST, INIT_URL, status=429, json=body)

    with pytest.raises(PaystackRateLimited) as caught:
        initialize(service)

    assert caught.value.paystack_code == "rate_limited"
    assert caught.value.http_status == 429


def test_duplicate_reference_is_a_request_error_with_paystack_code(service, mocked, logs):
    body = paystack_json("error_400_duplicate_reference.paystack-openapi.transcribed.json")
    mocked.add(responses.POST, INIT_URL, status=400, json=body)

    with pytest.raises(PaystackRequestError) as caught:
        initialize(service)

    error = caught.value
    assert not isinstance(error, PaystackNotFound)
    assert error.paystack_code == "duplicate_reference"
    assert error.http_status == 400
    assert error.code == "payment_gateway_rejected"
    assert "Duplicate Transaction Reference" in error.detail
    assert_no_secret(error.detail)
    assert_logs_clean(logs)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, paystack_json("error_404_not_found.paystack-openapi.transcribed.json")),
        (400, {"status": False, "message": "Transaction reference not found"}),
    ],
)
def test_verify_unknown_reference_is_not_found(service, mocked, logs, status, body):
    mocked.add(responses.GET, VERIFY_URL, status=status, json=body)

    with pytest.raises(PaystackNotFound) as caught:
        verify(service)

    assert caught.value.status_code == 502
    assert caught.value.code == "payment_not_found_at_gateway"
    assert caught.value.http_status == status
    assert_no_secret(caught.value.detail)
    assert_logs_clean(logs)


# --- configuration and timeouts --------------------------------------------------------------

ALL_CALLS = {
    "initialize": initialize,
    "verify": verify,
}


@pytest.mark.parametrize("name", ALL_CALLS)
def test_settings_timeout_is_passed_to_requests(paystack_settings, monkeypatch, name):
    paystack_settings.PAYSTACK_TIMEOUT_SECONDS = 7.5
    captured = {}

    def fake_request(self, method, url, **kwargs):
        captured.update(kwargs, method=method, url=url)
        raise requests.exceptions.Timeout("took too long")

    monkeypatch.setattr(requests.Session, "request", fake_request)

    with pytest.raises(PaystackTimeout):
        ALL_CALLS[name](PaystackService())

    assert captured["timeout"] == 7.5
    assert captured["url"].startswith(f"{BASE}/")
    assert captured["headers"]["Authorization"] == f"Bearer {TEST_SECRET}"


def test_explicit_constructor_arguments_override_settings(paystack_settings, monkeypatch):
    captured = {}

    def fake_request(self, method, url, **kwargs):
        captured.update(kwargs, url=url)
        raise requests.exceptions.ConnectTimeout()

    monkeypatch.setattr(requests.Session, "request", fake_request)
    service = PaystackService(secret_key="sk_test_other", base_url="https://x.test/", timeout=2)

    with pytest.raises(PaystackTimeout):
        verify(service)

    assert captured["timeout"] == 2
    assert captured["url"] == f"https://x.test/transaction/verify/{REFERENCE}"
    assert captured["headers"]["Authorization"] == "Bearer sk_test_other"


@pytest.mark.parametrize("name", ALL_CALLS)
def test_missing_secret_key_raises_not_configured_without_http(paystack_settings, mocked, name):
    paystack_settings.PAYSTACK_SECRET_KEY = ""

    with pytest.raises(PaystackNotConfigured) as caught:
        ALL_CALLS[name](PaystackService())
    with pytest.raises(PaystackNotConfigured):
        ALL_CALLS[name](PaystackService(secret_key=""))

    assert caught.value.status_code == 503
    assert isinstance(caught.value, GatewayNotConfigured)
    assert len(mocked.calls) == 0


# --- webhook signatures ----------------------------------------------------------------------

VECTORS = paystack_json("_generated_signature_vectors.json")


def test_vectors_use_the_settings_dummy_key():
    assert VECTORS["secret_key"] == TEST_SECRET
    assert len(VECTORS["vectors"]) == 4


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["file"])
def test_signature_over_raw_bytes_is_valid(service, vector):
    raw = paystack_raw(vector["file"])
    signature = vector["x-paystack-signature"]

    assert service.is_valid_signature(raw, signature) is True
    assert service.is_valid_signature(raw, signature.upper()) is True
    assert service.is_valid_signature(raw, f" {signature}\n") is True


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["file"])
def test_reserialized_or_wrong_signatures_are_invalid(service, vector):
    raw = paystack_raw(vector["file"])
    signature = vector["x-paystack-signature"]
    reserialized = json.dumps(json.loads(raw)).encode()
    reserialized_signature = vector["signature_of_python_json_dumps_reserialized"]
    one_digit_off = signature[:-1] + ("1" if signature[-1] == "0" else "0")

    assert service.is_valid_signature(raw, reserialized_signature) is False
    assert service.is_valid_signature(reserialized, signature) is False
    assert service.is_valid_signature(reserialized, reserialized_signature) is True
    assert service.is_valid_signature(raw, one_digit_off) is False
    assert service.is_valid_signature(raw, "0" * 128) is False
    assert service.is_valid_signature(raw, "") is False
    assert service.is_valid_signature(raw, "   ") is False
    assert service.is_valid_signature(raw, None) is False
    assert service.is_valid_signature(raw + b" ", signature) is False


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["file"])
def test_signature_is_never_valid_without_a_secret(paystack_settings, vector):
    paystack_settings.PAYSTACK_SECRET_KEY = ""
    raw = paystack_raw(vector["file"])

    for service in (PaystackService(), PaystackService(secret_key="")):
        assert service.is_valid_signature(raw, vector["x-paystack-signature"]) is False
        assert service.is_valid_signature(raw, "") is False
        assert service.is_valid_signature(b"", "") is False


@pytest.mark.parametrize("signature", ["é" * 128, "\u202e" + "a" * 127, "ünïcödé"])
def test_a_non_ascii_signature_is_invalid_not_an_error(service, signature):
    # Regression: compare_digest raised TypeError on non-ASCII str, so the webhook answered 500.
    assert service.is_valid_signature(b"{}", signature) is False
