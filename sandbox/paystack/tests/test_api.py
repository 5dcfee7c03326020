"""The sandbox's JSON API: bearer key, initialize, verify, refund and the bank list."""

import pytest
from django.test import Client

from sandbox.paystack.models import SandboxTransaction
from sandbox.paystack.tests.helpers import (
    API,
    NOT_FOUND,
    SECRET,
    checkout_path,
    initialize,
    initialize_body,
    paid,
    post_json,
    verify,
)
from testing.paystack_api import paystack_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

INVALID_KEY = {"status": False, "message": "Invalid key"}
ENDPOINTS = [
    ("POST", "/transaction/initialize"),
    ("GET", "/transaction/verify/AI-CRED-0001"),
    ("POST", "/refund"),
]


def call(client, method, path, body=b"{}"):
    if method == "GET":
        return client.get(API + path)
    return post_json(client, API + path, body)


# --- The key -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer sk_test_wrong", f"Token {SECRET}", f"bearer{SECRET}", "Bearer ", SECRET],
)
def test_every_call_needs_the_secret_key_as_bearer(hooks, method, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    client = Client(headers=headers)

    response = call(client, method, path, initialize_body())

    assert response.status_code == 401
    assert response.json() == INVALID_KEY
    assert SandboxTransaction.objects.count() == 0


def test_the_bearer_scheme_is_case_insensitive(paystack_client):
    client = Client(headers={"Authorization": f"bearer {SECRET}"})
    assert client.get(f"{API}/transaction/verify/AI-NONE").status_code == 400  # not 401


def test_no_key_is_accepted_when_the_server_has_none(settings, db):
    settings.PAYSTACK_SECRET_KEY = ""
    client = Client(headers={"Authorization": "Bearer "})
    assert client.get(f"{API}/transaction/verify/AI-NONE").status_code == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_view_is_404_when_the_sandbox_is_off(paystack_client, settings, method, path):
    data = initialize(paystack_client)
    settings.SANDBOX = False

    assert call(paystack_client, method, path, initialize_body()).status_code == 404
    assert paystack_client.get(checkout_path(data["access_code"])).status_code == 404
    page = paystack_client.post(checkout_path(data["access_code"]), {"action": "pay"})
    assert page.status_code == 404
    assert SandboxTransaction.objects.get().checkout_used is False


def test_wrong_methods_are_refused(paystack_client):
    assert paystack_client.get(f"{API}/transaction/initialize").status_code == 405
    assert post_json(paystack_client, f"{API}/transaction/verify/AI-NONE", {}).status_code == 405


# --- Initialize --------------------------------------------------------------------------------


def test_initialize_opens_a_checkout_in_paystacks_shape(paystack_client):
    response = post_json(paystack_client, f"{API}/transaction/initialize", initialize_body())

    assert response.status_code == 200
    body = response.json()
    expected = paystack_json("initialize_success.paystack-docs.json")
    assert body.keys() == expected.keys()
    assert body["data"].keys() == expected["data"].keys()
    assert body["status"] is True and body["message"] == "Authorization URL created"
    txn = SandboxTransaction.objects.get()
    assert body["data"] == {
        "authorization_url": f"http://testserver{API}/checkout/{txn.access_code}",
        "access_code": txn.access_code,
        "reference": "AI-CRED-0001",
    }
    assert (txn.email, txn.amount, txn.currency) == ("ama@example.com", 9400, "GHS")
    assert txn.channels == ["mobile_money"] and txn.metadata == {"purchase_id": 7}
    assert txn.callback_url == "http://shop.test/payment/callback"
    assert txn.status == "abandoned" and txn.checkout_used is False and txn.paid_at is None
    assert paystack_client.get(body["data"]["authorization_url"]).status_code == 200


def test_each_initialize_gets_its_own_access_code(paystack_client):
    first = initialize(paystack_client, reference="REF-1")
    second = initialize(paystack_client, reference="REF-2")
    assert first["access_code"] != second["access_code"]


def test_optional_fields_may_be_left_out(paystack_client):
    initialize(paystack_client, callback_url=..., channels=..., metadata=...)

    data = verify(paystack_client, "AI-CRED-0001").json()["data"]
    assert data["channel"] == "card"
    assert data["metadata"] == ""  # as Paystack reports a transaction without metadata
    txn = SandboxTransaction.objects.get()
    assert txn.callback_url == "" and txn.channels == []


def test_references_may_hold_letters_digits_dash_dot_and_equals(paystack_client):
    assert initialize(paystack_client, reference="Ab-9.x=Z")["reference"] == "Ab-9.x=Z"


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": ...},
        {"email": ""},
        {"email": "ama.example.com"},
        {"email": 5},
        {"amount": ...},
        {"amount": 0},
        {"amount": -100},
        {"amount": True},
        {"amount": 94.0},
        {"amount": "9400"},
        {"amount": None},
        {"currency": ...},
        {"currency": "GH"},
        {"currency": "GHSS"},
        {"currency": "G1S"},
        {"currency": 936},
        {"reference": ...},
        {"reference": ""},
        {"reference": "has space"},
        {"reference": "a/b"},
        {"reference": "under_score"},
        {"reference": "x" * 101},
        {"reference": 1234},
        {"callback_url": "javascript:alert(1)"},
        {"callback_url": "/relative/path"},
        {"callback_url": 5},
        {"channels": "mobile_money"},
        {"channels": [1]},
        {"metadata": "purchase 7"},
        {"metadata": [1, 2]},
    ],
    ids=repr,
)
def test_initialize_rejects_invalid_params(paystack_client, overrides):
    response = post_json(
        paystack_client, f"{API}/transaction/initialize", initialize_body(**overrides)
    )

    assert response.status_code == 400
    body = response.json()
    assert body["status"] is False and body["message"]
    assert (body["type"], body["code"]) == ("validation_error", "invalid_params")
    assert SandboxTransaction.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b"", b'"text"', b"[" * 100_000 + b"]" * 100_000],
    ids=["not-json", "a-list", "empty", "a-string", "nested-too-deeply"],
)
def test_initialize_rejects_a_body_that_is_not_a_json_object(paystack_client, raw):
    response = post_json(paystack_client, f"{API}/transaction/initialize", raw)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"


def test_a_repeated_reference_is_refused_as_paystack_does(paystack_client):
    initialize(paystack_client)

    response = post_json(
        paystack_client,
        f"{API}/transaction/initialize",
        initialize_body(email="kofi@example.com", amount=100),
    )

    assert response.status_code == 400
    expected = paystack_json("error_400_duplicate_reference.paystack-openapi.transcribed.json")
    body = response.json()
    for key in ("status", "message", "type", "code", "meta"):
        assert body[key] == expected[key]
    txn = SandboxTransaction.objects.get()
    assert (txn.email, txn.amount) == ("ama@example.com", 9400)


# --- Verify ------------------------------------------------------------------------------------


def test_verify_of_an_unknown_reference_is_not_found(paystack_client):
    response = verify(paystack_client, "NOPE-1")

    assert response.status_code == 400
    assert response.json() == NOT_FOUND


def test_verify_of_an_unpaid_checkout_says_abandoned_in_paystacks_shape(paystack_client):
    initialize(paystack_client, channels=["card"])

    response = verify(paystack_client, "AI-CRED-0001")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] is True and body["message"] == "Verification successful"
    data = body["data"]
    fixture = paystack_json("verify_abandoned_card_ghs.grottopress-haystack.json")["data"]
    assert set(fixture) <= set(data), set(fixture) - set(data)
    txn = SandboxTransaction.objects.get()
    assert data["id"] == txn.pk
    assert data["domain"] == "test"
    assert data["status"] == "abandoned"
    assert data["reference"] == "AI-CRED-0001"
    assert (data["amount"], data["requested_amount"], data["currency"]) == (9400, 9400, "GHS")
    assert data["channel"] == "card"
    assert data["gateway_response"] == "The transaction was not completed"
    assert data["paid_at"] is None and data["paidAt"] is None
    assert data["created_at"].endswith("Z") and data["created_at"] == data["createdAt"]
    assert data["metadata"] == {"purchase_id": 7}
    assert data["customer"]["email"] == "ama@example.com"
    assert data["authorization"] == {}
    assert data["fees"] is None and data["log"] is None


def test_verify_after_pay_says_success(paystack_client, hooks, django_capture_on_commit_callbacks):
    txn = paid(paystack_client, django_capture_on_commit_callbacks)

    data = verify(paystack_client, txn.reference).json()["data"]

    assert data["status"] == "success"
    assert data["gateway_response"] == "Approved"
    assert (data["amount"], data["currency"], data["channel"]) == (9400, "GHS", "mobile_money")
    assert data["paid_at"].endswith("Z") and data["paid_at"] == data["paidAt"]
    assert data["authorization"]["channel"] == "mobile_money"
    assert data["authorization"]["authorization_code"].startswith("AUTH_")
    fixture = paystack_json("verify_data_success_mobile_money_ghs.jsonb-reordered.json")
    assert set(fixture["authorization"]) - set(data["authorization"]) <= {
        "receiver_bank",
        "receiver_bank_account_number",
    }


def test_verify_after_decline_says_failed(paystack_client, hooks):
    data = initialize(paystack_client)
    paystack_client.post(checkout_path(data["access_code"]), {"action": "decline"})

    verified = verify(paystack_client, data["reference"]).json()["data"]

    assert verified["status"] == "failed"
    assert verified["gateway_response"] == "Declined"
    assert verified["paid_at"] is None and verified["authorization"] == {}


def test_verify_finds_a_reference_sent_percent_encoded(paystack_client):
    initialize(paystack_client, reference="ref=1.a")

    response = paystack_client.get(f"{API}/transaction/verify/ref%3D1.a")

    assert response.status_code == 200
    assert response.json()["data"]["reference"] == "ref=1.a"


# --- Banks -------------------------------------------------------------------------------------
