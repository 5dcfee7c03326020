"""Refunds through the real SDK: by payment intent or charge, in parts that add up on the
charge, never past it; each one sends `charge.refunded` with the charge as it then stands."""

import pytest
import stripe
from django.test import Client

from sandbox.stripe.models import StripeSandboxCharge, StripeSandboxRefund
from sandbox.stripe.tests.helpers import (
    event_types,
    hook_calls,
    open_session,
    page_path,
    verified_event,
)
from testing.stripe_api import stripe_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]


@pytest.fixture
def paid(sdk, stripe_hooks, django_capture_on_commit_callbacks):
    """A session paid by card on the checkout page; the retrieved session."""
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(page_path(session), {"action": "pay"})
    return sdk.v1.checkout.sessions.retrieve(session.id)


@pytest.fixture
def refund(sdk, django_capture_on_commit_callbacks):
    """Create a refund through the SDK, letting its webhook leave."""

    def create(**params):
        with django_capture_on_commit_callbacks(execute=True):
            return sdk.v1.refunds.create(params=params)

    return create


def refund_events(mock) -> list:
    return [verified_event(c) for c in hook_calls(mock) if b'"charge.refunded"' in c.request.body]


def test_a_full_refund_by_payment_intent_in_stripes_shape(paid, refund, stripe_hooks):
    made = refund(payment_intent=paid.payment_intent)

    body = made.to_dict()
    assert list(body) == list(stripe_json("refund.json"))
    assert made.id.startswith("re_") and made.object == "refund"
    assert made.amount == 999 and made.currency == "usd" and made.status == "succeeded"
    assert made.payment_intent == paid.payment_intent
    charge = StripeSandboxCharge.objects.get()
    assert made.charge == charge.stripe_id
    [event] = refund_events(stripe_hooks)
    assert event.type == "charge.refunded"
    assert list(event.data.object.to_dict()) == list(stripe_json("charge.json"))
    assert event.data.object.amount_refunded == 999 and event.data.object.refunded is True
    assert event.data.object.payment_intent == paid.payment_intent
    assert event.data.object.metadata.to_dict() == {"reference": "AI-CRED-0001", "purchase_id": "7"}
    assert event.request.id == made.last_response.request_id


def test_partial_refunds_add_up_and_never_pass_the_charge(sdk, paid, refund, stripe_hooks):
    charge_id = StripeSandboxCharge.objects.get().stripe_id

    refund(payment_intent=paid.payment_intent, amount=300, reason="requested_by_customer")
    refund(charge=charge_id, amount=400, metadata={"ticket": "42"})
    with pytest.raises(stripe.InvalidRequestError) as over:
        refund(payment_intent=paid.payment_intent, amount=300)
    last = refund(payment_intent=paid.payment_intent)

    assert over.value.http_status == 400
    assert over.value.code == "amount_too_large" and over.value.param == "amount"
    assert "USD 3.00" in over.value.user_message and "USD 2.99" in over.value.user_message
    assert last.amount == 299
    events = refund_events(stripe_hooks)
    assert [(e.data.object.amount_refunded, e.data.object.refunded) for e in events] == [
        (300, False),
        (700, False),
        (999, True),
    ]
    assert sdk.v1.charges.retrieve(charge_id).amount_refunded == 999
    assert StripeSandboxRefund.objects.get(amount=400).metadata == {"ticket": "42"}


def test_a_fully_refunded_charge_refuses_more(paid, refund, stripe_hooks):
    refund(payment_intent=paid.payment_intent)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(payment_intent=paid.payment_intent, amount=1)

    assert caught.value.code == "charge_already_refunded"
    assert event_types(stripe_hooks).count("charge.refunded") == 1


@pytest.mark.parametrize(
    "params, code, param",
    [
        ({}, "parameter_missing", "payment_intent"),
        ({"payment_intent": "pi_missing"}, "resource_missing", "payment_intent"),
        ({"charge": "ch_missing"}, "resource_missing", "charge"),
        ({"payment_intent": "PI", "amount": 0}, "parameter_invalid_integer", "amount"),
        ({"payment_intent": "PI", "reason": "changed_mind"}, "parameter_invalid", "reason"),
        ({"payment_intent": "PI", "instructions_email": "x@y.z"}, "parameter_unknown", None),
    ],
)
def test_bad_refunds_are_refused_and_change_nothing(paid, refund, params, code, param):
    params = {k: paid.payment_intent if v == "PI" else v for k, v in params.items()}

    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(**params)

    assert caught.value.http_status == 400
    assert caught.value.code == code
    assert caught.value.param == (param or next(iter(params.keys() - {"payment_intent"})))
    assert StripeSandboxCharge.objects.get().amount_refunded == 0


def test_a_charge_and_a_payment_intent_must_agree(sdk, paid, refund):
    other = open_session(sdk)
    charge_id = StripeSandboxCharge.objects.get().stripe_id

    with pytest.raises(stripe.InvalidRequestError) as caught:
        refund(charge=charge_id, payment_intent="pi_someone_else")

    assert caught.value.param == "payment_intent"
    assert other.payment_intent is None


def test_a_delayed_payment_still_processing_has_nothing_to_refund(
    sdk, stripe_hooks, refund, monkeypatch, django_capture_on_commit_callbacks
):
    from sandbox.stripe import services as stripe_services

    monkeypatch.setattr(stripe_services, "async_settle", lambda **kwargs: None)  # never settles
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(page_path(session), {"action": "delayed"})
    processing = sdk.v1.checkout.sessions.retrieve(session.id)

    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        refund(payment_intent=processing.payment_intent)

    assert processing.payment_status == "unpaid"
    assert "Payment processing" in Client().get(page_path(session)).content.decode()


def test_refunds_are_idempotent_per_key(sdk, paid, django_capture_on_commit_callbacks):
    params = {"payment_intent": paid.payment_intent, "amount": 500}

    with django_capture_on_commit_callbacks(execute=True):
        first = sdk.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})
        again = sdk.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})

    assert again.id == first.id
    assert StripeSandboxRefund.objects.count() == 1
    assert StripeSandboxCharge.objects.get().amount_refunded == 500


def test_a_refund_and_a_charge_can_be_read_back(sdk, paid, refund):
    made = refund(payment_intent=paid.payment_intent, amount=100)

    assert sdk.v1.refunds.retrieve(made.id).to_dict() == made.to_dict()
    charge = sdk.v1.charges.retrieve(made.charge)
    assert charge.amount == 999 and charge.amount_refunded == 100 and charge.refunded is False
    assert charge.payment_method_details.card.last4 == "4242"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.refunds.retrieve("re_missing")
    assert caught.value.http_status == 404
