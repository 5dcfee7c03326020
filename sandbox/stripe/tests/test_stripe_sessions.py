"""Checkout Sessions through the real SDK: create, retrieve, line items, expire."""

import time
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxSession
from sandbox.stripe.tests.helpers import (
    SERVER,
    SUCCESS_URL,
    credit_price,
    event_types,
    hook_calls,
    open_session,
    session_params,
    verified_event,
)
from testing.stripe_api import stripe_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]


def test_create_answers_an_open_unpaid_session_in_stripes_shape(sdk):
    price_id = credit_price(sdk, unit_amount=999)

    session = open_session(sdk, price_id)

    body = session.to_dict()
    assert list(body) == list(stripe_json("checkout_session.created.json"))
    assert session.id.startswith("cs_test_")
    assert body["object"] == "checkout.session" and body["mode"] == "payment"
    assert body["status"] == "open" and body["payment_status"] == "unpaid"
    assert body["payment_intent"] is None and body["customer_details"] is None
    assert body["amount_total"] == 999 and body["amount_subtotal"] == 999
    assert body["currency"] == "usd"
    assert body["client_reference_id"] == "AI-CRED-0001"
    assert body["customer_email"] == "ama@example.com"
    assert body["metadata"] == {"purchase_id": "7", "business_id": "3"}
    assert body["success_url"] == SUCCESS_URL  # the {CHECKOUT_SESSION_ID} template is kept
    assert body["url"] == f"{SERVER}/sandbox/stripe/checkout/{session.id}"
    assert body["livemode"] is False
    assert body["expires_at"] - body["created"] == 24 * 60 * 60


def test_the_total_adds_up_every_line_in_cents(sdk):
    first, second = credit_price(sdk, unit_amount=999), credit_price(sdk, unit_amount=2550)

    session = open_session(
        sdk,
        line_items=[{"price": first, "quantity": 3}, {"price": second, "quantity": 1}],
    )

    assert session.amount_total == 3 * 999 + 2550
    items = sdk.v1.checkout.sessions.line_items.list(session.id)
    assert items.object == "list" and items.has_more is False
    assert items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    assert [(i.price.id, i.quantity, i.amount_total) for i in items.data] == [
        (first, 3, 2997),
        (second, 1, 2550),
    ]
    expected_keys = list(stripe_json("checkout_session.line_items.json")["data"][0])
    assert list(items.data[0].to_dict()) == expected_keys
    assert items.data[0].description == "Value pack"


def test_price_data_makes_a_hidden_one_off_price(sdk):
    session = open_session(
        sdk,
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1500,
                    "product_data": {"name": "Custom top-up"},
                },
                "quantity": 2,
            }
        ],
    )

    assert session.amount_total == 3000
    [item] = sdk.v1.checkout.sessions.line_items.list(session.id).data
    assert item.description == "Custom top-up"
    assert StripeSandboxPrice.objects.get(stripe_id=item.price.id).active is False
    assert item.price.id not in [p.id for p in sdk.v1.prices.list(params={"active": True}).data]


def test_retrieve_with_expand_embeds_the_line_items(sdk):
    session = open_session(sdk)

    found = sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})

    assert found.line_items.object == "list"
    assert [item.quantity for item in found.line_items.data] == [1]
    assert "line_items" not in sdk.v1.checkout.sessions.retrieve(session.id).to_dict()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer"]})
    assert caught.value.param == "expand"


@pytest.mark.parametrize(
    "overrides, param, code",
    [
        ({"line_items": ...}, "line_items", "parameter_missing"),
        ({"mode": ...}, "mode", "parameter_missing"),
        ({"mode": "subscription"}, "mode", "parameter_invalid"),
        (
            {"line_items": [{"price": "price_missing", "quantity": 1}]},
            "line_items[0][price]",
            "resource_missing",
        ),
        ({"line_items": [{"quantity": 1}]}, "line_items[0]", "parameter_invalid"),
        ({"success_url": "shop.test/cb"}, "success_url", "url_invalid"),
        ({"customer_email": "not-an-email"}, "customer_email", "email_invalid"),
        ({"locale": "fr"}, "locale", "parameter_unknown"),
        (
            {"payment_intent_data": {"capture_method": "manual"}},
            "payment_intent_data[capture_method]",
            "parameter_unknown",
        ),
        ({"client_reference_id": "x" * 201}, "client_reference_id", "parameter_invalid"),
        ({"expires_at": int(time.time()) + 60}, "expires_at", "parameter_invalid"),
    ],
)  # fmt: skip
def test_bad_parameters_get_stripes_400(sdk, overrides, param, code):
    price_id = credit_price(sdk)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.checkout.sessions.create(params=session_params(price_id, **overrides))

    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert caught.value.code == code
    assert caught.value.error.type == "invalid_request_error"
    assert StripeSandboxSession.objects.count() == 0


def test_an_inactive_price_cannot_be_sold(sdk):
    price_id = credit_price(sdk)
    sdk.v1.prices.update(price_id, params={"active": False})

    with pytest.raises(stripe.InvalidRequestError, match="inactive") as caught:
        open_session(sdk, price_id)

    assert caught.value.param == "line_items[0][price]"


def test_a_total_under_fifty_cents_is_refused_like_stripe(sdk):
    with pytest.raises(stripe.InvalidRequestError, match="at least USD 0.50") as caught:
        open_session(sdk, credit_price(sdk, unit_amount=49))

    assert caught.value.code == "amount_too_small"


def test_mixed_currencies_are_refused(sdk):
    usd = credit_price(sdk)
    product = sdk.v1.products.create(params={"name": "Cedi pack"})
    ghs = sdk.v1.prices.create(
        params={"product": product.id, "currency": "ghs", "unit_amount": 9400}
    )

    with pytest.raises(stripe.InvalidRequestError, match="same currency"):
        open_session(
            sdk, line_items=[{"price": usd, "quantity": 1}, {"price": ghs.id, "quantity": 1}]
        )


def test_an_unknown_session_is_404(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.checkout.sessions.retrieve("cs_test_missing")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "session"
    assert caught.value.user_message == "No such checkout.session: 'cs_test_missing'"


def test_expire_closes_an_open_session_and_sends_checkout_session_expired(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    session = open_session(sdk)

    with django_capture_on_commit_callbacks(execute=True):
        expired = sdk.v1.checkout.sessions.expire(
            session.id, options={"idempotency_key": "expire-AI-CRED-0001"}
        )

    assert expired.status == "expired" and expired.url is None
    assert list(expired.to_dict()) == list(stripe_json("checkout_session.expired.json"))
    [call] = hook_calls(stripe_hooks)
    event = verified_event(call)
    assert event.type == "checkout.session.expired"
    assert event.data.object.id == session.id and event.data.object.status == "expired"
    assert event.request.idempotency_key == "expire-AI-CRED-0001"
    assert event.request.id.startswith("req_")
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_only_an_open_session_can_be_expired(sdk, stripe_hooks, django_capture_on_commit_callbacks):
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        sdk.v1.checkout.sessions.expire(session.id)

    with pytest.raises(stripe.InvalidRequestError, match=r'status in \["open"\]') as caught:
        sdk.v1.checkout.sessions.expire(session.id)

    assert caught.value.http_status == 400
    assert event_types(stripe_hooks) == ["checkout.session.expired"]


def test_a_session_past_its_expires_at_reads_as_expired_and_says_so_once(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    session = open_session(sdk)
    StripeSandboxSession.objects.filter(stripe_id=session.id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = sdk.v1.checkout.sessions.retrieve(session.id)
        again = sdk.v1.checkout.sessions.retrieve(session.id)

    assert first.status == again.status == "expired"
    assert event_types(stripe_hooks) == ["checkout.session.expired"]
    assert verified_event(hook_calls(stripe_hooks)[0]).request.id is None  # Stripe did it
