"""The stand-in's checkout page behind a session's `url`: pay, pay by a delayed method, decline,
cancel; a session is paid once; a paid one can be refunded, and disputed, from the page."""

import re

import pytest
from django.test import Client

from sandbox.stripe.models import (
    StripeSandboxCharge,
    StripeSandboxDispute,
    StripeSandboxSession,
)
from sandbox.stripe.tests.helpers import (
    CANCEL_URL,
    event_types,
    hook_calls,
    open_session,
    page_path,
    verified_event,
)
from testing.races import run_in_threads

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

PAGE_BUTTONS = {
    "pay": "Pay USD 9.99",
    "delayed": "Pay with a delayed method",
    "delayed_fail": "Delayed method that fails",
    "decline": "Decline",
    "cancel": "Cancel",
}


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """POST a button of the page, running what waits for the commit (the webhooks)."""

    def post(session, action, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(page_path(session), {"action": action, **fields})

    return post


def test_the_page_is_a_labelled_stand_in_showing_usd_and_the_test_card(sdk):
    session = open_session(sdk)

    answer = Client().get(page_path(session))

    assert answer.status_code == 200
    assert "no-cache" in answer["Cache-Control"]
    html = answer.content.decode()
    assert "<title>Stripe sandbox checkout</title>" in html
    assert "Stripe test stand-in (sandbox)" in html
    assert '<p class="amount" id="amount">USD 9.99</p>' in html
    assert "Value pack &times; 1" in html
    assert 'value="4242 4242 4242 4242" readonly' in html
    assert 'value="ama@example.com" readonly' in html  # customer_email fixes the email
    assert "AI-CRED-0001" in html
    for action, label in PAGE_BUTTONS.items():
        assert re.search(
            rf'id="{action}" name="action" value="{action}"[^>]*>{label}</button>', html
        )
    assert 'name="csrfmiddlewaretoken"' in html


def test_no_card_field_is_ever_submitted(sdk):
    html = Client().get(page_path(open_session(sdk))).content.decode()

    card_inputs = re.findall(r'<input id="card-[^"]*"[^>]*>', html)
    assert len(card_inputs) == 3
    assert not any("name=" in tag for tag in card_inputs)


def test_the_buttons_need_the_csrf_token(sdk):
    session = open_session(sdk)
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(page_path(session), {"action": "pay"})
    page = browser.get(page_path(session))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    accepted = browser.post(page_path(session), {"action": "decline", "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 402
    assert StripeSandboxSession.objects.get().status == "open"


def test_pay_completes_the_session_sends_completed_and_redirects_with_the_id(
    sdk, stripe_hooks, submit
):
    session = open_session(sdk)

    answer = submit(session, "pay")

    assert answer.status_code == 302
    assert answer["Location"] == (
        f"http://shop.test/payment/callback?gateway=stripe&session_id={session.id}"
    )
    paid = sdk.v1.checkout.sessions.retrieve(session.id)
    assert paid.status == "complete" and paid.payment_status == "paid"
    assert paid.payment_intent.startswith("pi_")
    assert paid.customer_details.email == "ama@example.com"
    assert paid.url is None
    charge = StripeSandboxCharge.objects.get()
    assert charge.stripe_id.startswith("ch_") and charge.payment_intent_id == paid.payment_intent
    assert charge.amount == 999 and charge.metadata == {
        "reference": "AI-CRED-0001",
        "purchase_id": "7",
    }
    [call] = hook_calls(stripe_hooks)
    event = verified_event(call)
    assert event.type == "checkout.session.completed"
    assert event.data.object.to_dict() == paid.to_dict()


def test_a_session_is_paid_only_once(sdk, stripe_hooks, submit):
    session = open_session(sdk)
    submit(session, "pay")

    again = submit(session, "pay")
    delayed = submit(session, "delayed")

    assert again.status_code == delayed.status_code == 410
    assert "no longer open" in again.content.decode()
    assert StripeSandboxCharge.objects.count() == 1
    assert event_types(stripe_hooks) == ["checkout.session.completed"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_pays_charge_once(sdk, stripe_hooks):
    session = open_session(sdk)
    answers = []

    run_in_threads(
        2,
        lambda _: answers.append(Client().post(page_path(session), {"action": "pay"}).status_code),
    )

    assert sorted(answers) == [302, 410]
    assert StripeSandboxCharge.objects.count() == 1
    assert event_types(stripe_hooks) == ["checkout.session.completed"]


def test_the_payer_gives_an_email_when_the_app_sent_none(sdk, stripe_hooks, submit):
    session = open_session(sdk, customer_email=...)

    missing = submit(session, "pay")
    paid = submit(session, "pay", email="kofi@example.com")

    assert missing.status_code == 400
    assert "Enter a valid email address." in missing.content.decode()
    assert paid.status_code == 302
    found = sdk.v1.checkout.sessions.retrieve(session.id)
    assert found.customer_email is None and found.customer_details.email == "kofi@example.com"


def test_a_delayed_method_completes_unpaid_then_succeeds(sdk, stripe_hooks, submit):
    session = open_session(sdk)

    answer = submit(session, "delayed")

    assert answer.status_code == 302
    completed, succeeded = (verified_event(call) for call in hook_calls(stripe_hooks))
    assert completed.type == "checkout.session.completed"
    assert completed.data.object.status == "complete"
    assert completed.data.object.payment_status == "unpaid"
    assert succeeded.type == "checkout.session.async_payment_succeeded"
    assert succeeded.data.object.payment_status == "paid"
    assert succeeded.data.object.payment_intent == completed.data.object.payment_intent
    assert sdk.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert StripeSandboxCharge.objects.get().amount == 999


def test_a_delayed_method_can_fail_and_nothing_is_charged(sdk, stripe_hooks, submit):
    session = open_session(sdk)

    submit(session, "delayed_fail")

    assert event_types(stripe_hooks) == [
        "checkout.session.completed",
        "checkout.session.async_payment_failed",
    ]
    failed = sdk.v1.checkout.sessions.retrieve(session.id)
    assert failed.status == "complete" and failed.payment_status == "unpaid"
    assert not StripeSandboxCharge.objects.exists()
    assert "The delayed payment failed" in Client().get(page_path(session)).content.decode()


def test_decline_keeps_the_session_open_and_says_so(sdk, stripe_hooks, submit):
    session = open_session(sdk)

    declined = submit(session, "decline")
    paid_after = submit(session, "pay")

    assert declined.status_code == 402
    assert "Your card has been declined." in declined.content.decode()
    assert paid_after.status_code == 302  # the payer may try again, as on Stripe's page
    assert event_types(stripe_hooks) == ["checkout.session.completed"]


def test_cancel_goes_back_to_the_cancel_url_and_leaves_the_session_open(sdk, stripe_hooks, submit):
    session = open_session(sdk)

    answer = submit(session, "cancel")

    assert answer.status_code == 302 and answer["Location"] == CANCEL_URL
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert hook_calls(stripe_hooks) == []


def test_without_urls_the_page_itself_reports_the_outcome(sdk, stripe_hooks, submit):
    session = open_session(sdk, success_url=..., cancel_url=...)

    cancelled = submit(session, "cancel")
    paid = submit(session, "pay")

    assert "Payment cancelled." in cancelled.content.decode()
    assert paid.status_code == 200
    assert "Payment succeeded." in paid.content.decode()


def test_an_expired_session_cannot_be_paid(sdk, stripe_hooks, submit):
    session = open_session(sdk)
    sdk.v1.checkout.sessions.expire(session.id)

    answer = submit(session, "pay")

    assert answer.status_code == 410
    assert "This Checkout Session has expired." in answer.content.decode()
    assert not StripeSandboxCharge.objects.exists()


def test_an_unknown_session_or_action(sdk):
    session = open_session(sdk)

    assert Client().get("/sandbox/stripe/checkout/cs_test_missing").status_code == 404
    assert Client().post(page_path(session), {"action": "steal"}).status_code == 400


def test_a_paid_session_can_be_refunded_from_the_page_in_parts(sdk, stripe_hooks, submit):
    session = open_session(sdk)
    submit(session, "pay")

    part = submit(session, "refund", refund_amount="4.00")
    shown = Client().get(part["Location"]).content.decode()
    rest = submit(session, "refund", refund_amount="")
    more = submit(session, "refund", refund_amount="1.00")

    # Post/redirect/get: reloading the page that says "refunded" cannot refund again.
    assert part.status_code == 302 and part["Location"] == f"{page_path(session)}?refunded=1"
    assert '<dd id="refunded">USD 4.00</dd>' in shown and 'id="refund-done"' in shown
    assert rest.status_code == 302
    fully = Client().get(page_path(session)).content.decode()
    assert "This payment has been fully refunded." in fully
    assert more.status_code == 400
    assert "has already been refunded" in more.content.decode()
    refunds = [verified_event(call) for call in hook_calls(stripe_hooks)[1:]]
    assert [(e.type, e.data.object.amount_refunded, e.data.object.refunded) for e in refunds] == [
        ("charge.refunded", 400, False),
        ("charge.refunded", 999, True),
    ]


@pytest.mark.parametrize("typed", ["abc", "-1", "0", "1.001", "NaN"])
def test_a_refund_amount_must_be_money(sdk, stripe_hooks, submit, typed):
    session = open_session(sdk)
    submit(session, "pay")

    answer = submit(session, "refund", refund_amount=typed)

    assert answer.status_code == 400
    assert StripeSandboxCharge.objects.get().amount_refunded == 0


def test_an_unpaid_session_has_nothing_to_refund(sdk, submit):
    session = open_session(sdk)

    answer = submit(session, "refund")

    assert answer.status_code == 400
    assert "no payment to refund" in answer.content.decode()


def test_a_paid_session_can_be_disputed_and_the_dispute_closed_from_the_page(
    sdk, stripe_hooks, submit
):
    session = open_session(sdk)
    submit(session, "pay")
    paid = Client().get(page_path(session)).content.decode()

    opened = submit(session, "dispute_open")
    shown = Client().get(opened["Location"]).content.decode()
    closed = submit(session, "dispute_close", status="lost")
    after = Client().get(page_path(session)).content.decode()

    assert 'id="dispute-open" name="action" value="dispute_open"' in paid
    assert opened.status_code == 302 and opened["Location"] == f"{page_path(session)}?disputed=1"
    dispute = StripeSandboxDispute.objects.get()
    assert f'<dd id="dispute">{dispute.stripe_id}</dd>' in shown and 'id="dispute-done"' in shown
    assert '<dd id="dispute-amount">USD 9.99</dd>' in shown
    for outcome in ("won", "lost", "warning_closed"):
        assert f'id="dispute-{outcome}" name="status" value="{outcome}"' in shown
    assert closed.status_code == 302 and StripeSandboxDispute.objects.get().status == "lost"
    assert '<dd id="dispute-status">lost</dd>' in after and 'id="dispute-lost"' not in after
    assert event_types(stripe_hooks)[1:] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]


def test_the_dispute_buttons_refuse_what_cannot_be(sdk, stripe_hooks, submit):
    session = open_session(sdk)

    unpaid = submit(session, "dispute_open")
    submit(session, "pay")
    no_dispute = submit(session, "dispute_close", status="won")
    submit(session, "dispute_open")
    twice = submit(session, "dispute_open")
    bad_outcome = submit(session, "dispute_close", status="needs_response")

    assert unpaid.status_code == 400 and "no payment to dispute" in unpaid.content.decode()
    assert no_dispute.status_code == 400 and "has no dispute" in no_dispute.content.decode()
    assert twice.status_code == 400 and "already been disputed" in twice.content.decode()
    assert bad_outcome.status_code == 400
    assert StripeSandboxDispute.objects.get().status == "needs_response"
