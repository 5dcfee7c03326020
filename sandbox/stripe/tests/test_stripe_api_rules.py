"""Rules every Stripe endpoint keeps: where the SDK sends, test keys only, idempotency keys,
Stripe's 404 for unknown URLs, and nothing at all while the sandbox is off."""

import base64

import pytest
import stripe
from django.test import Client

from sandbox.stripe.in_process import InProcessHTTP
from sandbox.stripe.models import (
    StripeSandboxIdempotencyKey,
    StripeSandboxProduct,
    StripeSandboxSession,
)
from sandbox.stripe.tests.helpers import (
    API,
    STRIPE_KEY,
    credit_price,
    open_session,
    page_path,
    sdk_client,
    session_params,
)

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]


def test_the_sdk_requests_base_plus_v1_paths_as_the_app_will(sdk, stripe_http):
    open_session(sdk)

    paths = [(sent["method"], sent["path"]) for sent in stripe_http.sent]
    assert paths == [
        ("post", "/sandbox/stripe/v1/products"),
        ("post", "/sandbox/stripe/v1/prices"),
        ("post", "/sandbox/stripe/v1/checkout/sessions"),
    ]
    sent = stripe_http.sent[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert "line_items[0][price]=price_" in sent["body"]
    assert "payment_intent_data[metadata][reference]=AI-CRED-0001" in sent["body"]


def test_answers_carry_a_request_id(stripe_http, sdk):
    price_id = credit_price(sdk)

    answer = stripe_http.client.get(
        f"{API}/prices/{price_id}", headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer["Request-Id"].startswith("req_")


@pytest.mark.parametrize(
    "api_key",
    [
        "sk_live_not-a-real-key",
        "rk_test_restricted",
        "pk_test_publishable",
        "sk_test_",
        "sk_test_but_not_the_configured_one",
    ],
)
def test_only_the_configured_test_secret_key_passes(stripe_http, api_key):
    with pytest.raises(stripe.AuthenticationError) as caught:
        sdk_client(stripe_http, api_key=api_key).v1.products.create(params={"name": "x"})

    assert caught.value.http_status == 401
    assert "Invalid API Key provided" in caught.value.user_message
    assert api_key not in caught.value.user_message or len(api_key) <= 12  # masked, as Stripe
    assert StripeSandboxProduct.objects.count() == 0


def test_any_test_key_passes_when_no_key_is_configured(settings, stripe_http):
    settings.STRIPE_SECRET_KEY = ""

    made = sdk_client(stripe_http, api_key="sk_test_anything").v1.products.create(
        params={"name": "x"}
    )

    assert made.id.startswith("prod_")


def test_no_key_is_401_in_stripes_envelope(stripe_sandbox, db):
    answer = Client().post(f"{API}/products", {"name": "x"})

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Basic realm="Stripe"'
    error = answer.json()["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")


def test_basic_auth_works_as_with_curl_u(stripe_sandbox, db):
    token = base64.b64encode(f"{STRIPE_KEY}:".encode()).decode()

    answer = Client().post(
        f"{API}/products", {"name": "x"}, headers={"Authorization": f"Basic {token}"}
    )

    assert answer.status_code == 200, answer.content


def test_the_same_key_and_params_replay_the_first_answer(sdk, stripe_http):
    price_id = credit_price(sdk)
    params = session_params(price_id)

    first = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": "buy-1"})
    again = sdk.v1.checkout.sessions.create(params=params, options={"idempotency_key": "buy-1"})

    assert again.id == first.id
    assert again.to_dict() == first.to_dict()
    assert StripeSandboxSession.objects.count() == 1
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id


def test_the_same_key_with_other_params_is_an_idempotency_error(sdk):
    price_id = credit_price(sdk)
    sdk.v1.checkout.sessions.create(
        params=session_params(price_id), options={"idempotency_key": "buy-1"}
    )

    with pytest.raises(stripe.IdempotencyError) as caught:
        sdk.v1.checkout.sessions.create(
            params=session_params(price_id, client_reference_id="AI-CRED-0002"),
            options={"idempotency_key": "buy-1"},
        )

    assert caught.value.http_status == 400
    assert caught.value.error.type == "idempotency_error"
    assert "buy-1" in caught.value.user_message
    assert StripeSandboxSession.objects.count() == 1


def test_a_key_is_scoped_to_its_endpoint(sdk):
    sdk.v1.products.create(params={"name": "x"}, options={"idempotency_key": "same"})

    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.checkout.sessions.create(
            params=session_params("price_x"), options={"idempotency_key": "same"}
        )


def test_a_refused_request_does_not_use_up_its_key(sdk):
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.products.create(params={"description": "no name"}, options={"idempotency_key": "k"})

    assert not StripeSandboxIdempotencyKey.objects.filter(key="k").exists()
    made = sdk.v1.products.create(params={"name": "named"}, options={"idempotency_key": "k"})
    assert made.name == "named"


def test_a_request_that_ran_into_a_state_error_replays_that_error(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        sdk.v1.checkout.sessions.expire(session.id)

    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
            sdk.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "exp"})

    assert StripeSandboxIdempotencyKey.objects.get(key="exp").status_code == 400


def test_a_repeat_while_the_first_is_still_running_is_409(sdk):
    sdk.v1.products.create(params={"name": "x"}, options={"idempotency_key": "busy"})
    # As the claim looks while the first request is still working (no answer stored yet).
    StripeSandboxIdempotencyKey.objects.filter(key="busy").update(status_code=None, body="")

    with pytest.raises(stripe.APIError) as caught:  # a 409 the SDK retries when allowed to
        sdk.v1.products.create(params={"name": "x"}, options={"idempotency_key": "busy"})

    assert caught.value.http_status == 409
    assert caught.value.error.code == "idempotency_key_in_use"
    assert StripeSandboxProduct.objects.count() == 1


def test_a_key_over_255_characters_is_refused(sdk):
    with pytest.raises(stripe.IdempotencyError, match="255"):
        sdk.v1.products.create(params={"name": "x"}, options={"idempotency_key": "k" * 256})

    assert StripeSandboxProduct.objects.count() == 0


def test_gets_ignore_idempotency_keys(sdk, stripe_http):
    price_id = credit_price(sdk)
    headers = {"Authorization": f"Bearer {STRIPE_KEY}", "Idempotency-Key": "read"}

    for _ in range(2):
        assert (
            stripe_http.client.get(f"{API}/prices/{price_id}", headers=headers).status_code == 200
        )
    assert not StripeSandboxIdempotencyKey.objects.filter(key="read").exists()


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/customers"),
        ("delete", "/products/prod_x"),
        ("get", "/checkout/sessions"),
        ("post", "/checkout/sessions/cs_test_x/line_items"),
    ],
)
def test_unknown_urls_get_stripes_unrecognized_url_404(stripe_sandbox, db, method, path):
    answer = Client().generic(
        method.upper(), f"{API}{path}", headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )

    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Unrecognized request URL ({method.upper()}: /v1{path})")


def test_an_unknown_url_reaches_the_sdk_as_invalid_request(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.create(params={"email": "ama@example.com"})

    assert caught.value.http_status == 404


def test_a_base_address_with_a_trailing_slash_is_told_so(stripe_http):
    client = stripe.StripeClient(
        STRIPE_KEY,
        base_addresses={"api": "http://testserver/sandbox/stripe/"},
        http_client=stripe_http,
        max_network_retries=0,
    )

    with pytest.raises(stripe.InvalidRequestError, match="without the trailing slash") as caught:
        client.v1.products.create(params={"name": "x"})

    assert stripe_http.sent[-1]["path"] == "/sandbox/stripe//v1/products"
    assert caught.value.http_status == 404
    assert StripeSandboxProduct.objects.count() == 0


def test_everything_is_404_while_the_sandbox_is_off(sdk, stripe_http, settings):
    session = open_session(sdk)
    settings.SANDBOX = False
    client = Client(headers={"Authorization": f"Bearer {STRIPE_KEY}"})

    answers = [
        client.post(f"{API}/products", {"name": "x"}),
        client.get(f"{API}/checkout/sessions/{session.id}"),
        client.post(f"{API}/checkout/sessions/{session.id}/expire"),
        client.post(f"{API}/refunds", {"payment_intent": "pi_x"}),
        client.get(f"{API}/customers"),
        client.get(page_path(session)),
        client.post(page_path(session), {"action": "pay", "email": "ama@example.com"}),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert all(b"cs_test_" not in answer.content for answer in answers)
    assert StripeSandboxSession.objects.get().status == "open"
    with pytest.raises(stripe.StripeError) as caught:  # Django's HTML 404, not a Stripe answer
        sdk.v1.checkout.sessions.retrieve(session.id)
    assert caught.value.http_status == 404


def test_the_sdk_client_helper_really_is_the_sdk(stripe_http):
    client = sdk_client(stripe_http)

    assert isinstance(client, stripe.StripeClient)
    assert isinstance(stripe_http, InProcessHTTP) and isinstance(stripe_http, stripe.HTTPClient)
    assert stripe.VERSION == "16.1.0"  # the version requirements.txt pins
