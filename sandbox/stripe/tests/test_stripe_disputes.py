"""The Stripe stand-in's disputes through the real SDK: opened and closed by the stand-in's test
helpers (`/v1/test_helpers/disputes`), read and accepted by Stripe's own dispute calls; each
change sends its signed events with the Dispute as it then stands (shared/stripe/README.md 9b)."""

import pytest
import stripe
from django.test import Client

from sandbox.stripe.models import StripeSandboxCharge, StripeSandboxDispute
from sandbox.stripe.tests.helpers import (
    event_types,
    hook_calls,
    open_session,
    page_path,
    verified_event,
)

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

README_FIELDS = {"id", "charge", "payment_intent", "amount", "currency", "reason", "status"}


@pytest.fixture
def paid(sdk, stripe_hooks, django_capture_on_commit_callbacks):
    """A session paid by card on the checkout page; the retrieved session."""
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(page_path(session), {"action": "pay"})
    stripe_hooks.calls.reset()
    return sdk.v1.checkout.sessions.retrieve(session.id)


@pytest.fixture
def helper(sdk, django_capture_on_commit_callbacks):
    """Call a stand-in test helper through the SDK's raw request, letting its events leave."""

    def call(path, **params):
        with django_capture_on_commit_callbacks(execute=True):
            answer = sdk.raw_request("post", f"/v1/test_helpers/{path}", **params)
        return sdk.deserialize(answer, api_mode="V1")

    return call


def dispute_events(mock) -> list:
    return [verified_event(c) for c in hook_calls(mock)]


def test_a_dispute_opens_on_the_charge_of_a_payment_intent(sdk, paid, helper, stripe_hooks):
    opened = helper("disputes", payment_intent=paid.payment_intent)

    charge = StripeSandboxCharge.objects.get()
    assert opened.id.startswith("dp_") and opened.object == "dispute"
    assert set(opened.to_dict()) >= README_FIELDS
    assert (opened.charge, opened.payment_intent) == (charge.stripe_id, paid.payment_intent)
    assert (opened.amount, opened.currency) == (999, "usd")
    assert (opened.reason, opened.status) == ("fraudulent", "needs_response")
    assert opened.evidence_details.due_by > opened.created
    created, withdrawn = dispute_events(stripe_hooks)
    assert (created.type, withdrawn.type) == (
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    )
    assert created.data.object.to_dict() == opened.to_dict()
    assert sdk.v1.charges.retrieve(charge.stripe_id).disputed is True
    assert sdk.v1.disputes.retrieve(opened.id).to_dict() == opened.to_dict()


@pytest.mark.parametrize(
    ("status", "events"),
    [
        ("won", ["charge.dispute.closed", "charge.dispute.funds_reinstated"]),
        ("lost", ["charge.dispute.closed"]),
        ("warning_closed", ["charge.dispute.closed"]),
    ],
)
def test_a_dispute_closes_as_the_bank_decides(paid, helper, stripe_hooks, status, events):
    opened = helper("disputes", payment_intent=paid.payment_intent)
    stripe_hooks.calls.reset()

    closed = helper(f"disputes/{opened.id}/close", status=status)

    assert (closed.id, closed.status) == (opened.id, status)
    assert event_types(stripe_hooks) == events
    [event, *_] = dispute_events(stripe_hooks)
    assert event.data.object.status == status
    assert StripeSandboxDispute.objects.get().closed_at is not None


def test_stripes_own_close_accepts_the_dispute_and_loses_it(
    sdk, paid, helper, stripe_hooks, django_capture_on_commit_callbacks
):
    opened = helper("disputes", payment_intent=paid.payment_intent)
    stripe_hooks.calls.reset()

    with django_capture_on_commit_callbacks(execute=True):
        accepted = sdk.v1.disputes.close(opened.id)

    assert accepted.status == "lost"
    assert event_types(stripe_hooks) == ["charge.dispute.closed"]


def test_a_charge_by_id_a_part_of_it_and_a_reason(paid, helper):
    charge = StripeSandboxCharge.objects.get()

    opened = helper("disputes", charge=charge.stripe_id, amount=400, reason="product_not_received")

    assert (opened.amount, opened.reason) == (400, "product_not_received")


def test_a_partly_refunded_charge_is_disputed_for_what_is_left(sdk, paid, helper):
    sdk.v1.refunds.create(params={"payment_intent": paid.payment_intent, "amount": 300})

    assert helper("disputes", payment_intent=paid.payment_intent).amount == 699


def test_a_charge_is_disputed_once_and_a_dispute_closes_once(paid, helper, stripe_hooks):
    opened = helper("disputes", payment_intent=paid.payment_intent)
    helper(f"disputes/{opened.id}/close", status="won")

    with pytest.raises(stripe.InvalidRequestError) as twice:
        helper("disputes", payment_intent=paid.payment_intent)
    with pytest.raises(stripe.InvalidRequestError) as closed:
        helper(f"disputes/{opened.id}/close", status="lost")

    assert twice.value.code == "charge_disputed"
    assert "already closed" in closed.value.user_message
    assert StripeSandboxDispute.objects.get().status == "won"
    assert event_types(stripe_hooks).count("charge.dispute.closed") == 1


def test_a_fully_refunded_charge_has_nothing_to_dispute(sdk, paid, helper):
    sdk.v1.refunds.create(params={"payment_intent": paid.payment_intent})

    with pytest.raises(stripe.InvalidRequestError, match="fully refunded"):
        helper("disputes", payment_intent=paid.payment_intent)


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({}, "parameter_missing", "charge"),
        ({"payment_intent": "pi_missing"}, "resource_missing", "payment_intent"),
        ({"charge": "ch_missing"}, "resource_missing", "charge"),
        ({"payment_intent": "PI", "amount": 0}, "parameter_invalid_integer", "amount"),
        ({"payment_intent": "PI", "amount": 1000}, "parameter_invalid", "amount"),
        ({"payment_intent": "PI", "reason": "changed_mind"}, "parameter_invalid", "reason"),
        ({"payment_intent": "PI", "evidence": "x"}, "parameter_unknown", "evidence"),
    ],
)
def test_bad_disputes_are_refused_and_change_nothing(paid, helper, params, code, param):
    params = {k: paid.payment_intent if v == "PI" else v for k, v in params.items()}

    with pytest.raises(stripe.InvalidRequestError) as caught:
        helper("disputes", **params)

    assert (caught.value.http_status, caught.value.code) == (400, code)
    assert caught.value.param == param
    assert StripeSandboxDispute.objects.count() == 0


@pytest.mark.parametrize("params", [{}, {"status": "needs_response"}, {"status": "x"}])
def test_a_close_needs_an_outcome(paid, helper, params):
    opened = helper("disputes", payment_intent=paid.payment_intent)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        helper(f"disputes/{opened.id}/close", **params)

    assert caught.value.param == "status"
    assert StripeSandboxDispute.objects.get().status == "needs_response"


def test_an_unknown_dispute_is_stripes_404(sdk, paid, helper):
    with pytest.raises(stripe.InvalidRequestError) as closing:
        helper("disputes/dp_missing/close", status="won")
    with pytest.raises(stripe.InvalidRequestError) as reading:
        sdk.v1.disputes.retrieve("dp_missing")

    assert closing.value.http_status == reading.value.http_status == 404
    assert reading.value.code == "resource_missing"


def test_opening_is_idempotent_per_key(sdk, paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            answer = sdk.raw_request(
                "post",
                "/v1/test_helpers/disputes",
                payment_intent=paid.payment_intent,
                idempotency_key="dispute-1",
            )

    assert answer.headers.get("Idempotent-Replayed") == "true"
    assert StripeSandboxDispute.objects.count() == 1


def test_the_helpers_need_a_test_key_and_the_sandbox(paid, helper, settings):
    opened = helper("disputes", payment_intent=paid.payment_intent)
    path = f"/sandbox/stripe/v1/test_helpers/disputes/{opened.id}/close"

    assert Client().post(path, {"status": "won"}).status_code == 401
    settings.SANDBOX = False
    assert Client().post(path, {"status": "won"}).status_code == 404
