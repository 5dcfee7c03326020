"""The stand-in's webhooks: signed exactly as Stripe signs, in Stripe's envelope, sent after the
change commits, and each send recorded with its outcome."""

import json
import re
import time

import pytest
import requests
import stripe
from django.db import transaction
from django.test import Client

from sandbox.stripe import webhooks
from sandbox.stripe.models import StripeSandboxEvent
from sandbox.stripe.tests.helpers import (
    STRIPE_HOOK_URL,
    WEBHOOK_SECRET,
    event_types,
    hook_calls,
    open_session,
    page_path,
    raw_body,
    recorded,
    verified_event,
)
from testing.stripe_api import STRIPE_FIXTURES, stripe_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

HEADER = re.compile(r"^t=(\d+),v1=([0-9a-f]{64}),v0=([0-9a-f]{64})$")


def pay(session, capture):
    with capture(execute=True):
        return Client().post(page_path(session), {"action": "pay"})


def test_the_signature_is_stripes_v1_over_timestamp_dot_raw_body(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    pay(open_session(sdk), django_capture_on_commit_callbacks)

    [call] = hook_calls(stripe_hooks)
    header = call.request.headers["Stripe-Signature"]
    timestamp, v1, v0 = HEADER.match(header).groups()
    assert abs(int(timestamp) - time.time()) < 60
    body = raw_body(call)
    expected = stripe.WebhookSignature.generate_signature_header(
        body.decode(), WEBHOOK_SECRET, timestamp=int(timestamp)
    )
    assert header.startswith(expected + ",")
    assert v0 != v1  # the test-mode v0 never matches: a receiver must ignore it
    event = stripe.Webhook.construct_event(body, header, WEBHOOK_SECRET, tolerance=300)
    assert event.type == "checkout.session.completed"


def test_the_signer_matches_the_shared_stripe_vector():
    vectors = stripe_json("signature_vectors.json")
    valid = next(v for v in vectors["vectors"] if v["name"] == "valid")
    body = (STRIPE_FIXTURES / vectors["payload"]["payload_file"]).read_bytes()

    header = webhooks.signature_header(
        payload=body, secret=valid["secret"], timestamp=valid["timestamp"]
    )

    assert header.startswith(valid["stripe_signature_header"] + ",v0=")


def test_another_secret_does_not_verify(sdk, stripe_hooks, django_capture_on_commit_callbacks):
    pay(open_session(sdk), django_capture_on_commit_callbacks)
    [call] = hook_calls(stripe_hooks)

    with pytest.raises(stripe.SignatureVerificationError):
        verified_event(call, secret="whsec_some_other_endpoint")


def test_the_envelope_is_stripes(sdk, stripe_hooks, django_capture_on_commit_callbacks):
    pay(open_session(sdk), django_capture_on_commit_callbacks)

    [call] = hook_calls(stripe_hooks)
    payload = json.loads(raw_body(call))
    reference = stripe_json("event.object.api_reference.json")
    assert list(payload) == list(reference)
    assert payload["id"].startswith("evt_") and payload["object"] == "event"
    assert payload["api_version"] == stripe._api_version._ApiVersion.CURRENT
    assert payload["livemode"] is False and payload["pending_webhooks"] == 1
    assert payload["request"] == {"id": None, "idempotency_key": None}  # the payer did it
    assert abs(payload["created"] - time.time()) < 60
    assert call.request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert call.request.headers["User-Agent"].startswith("Stripe/1.0")


def test_the_bytes_sent_are_the_bytes_recorded(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    pay(open_session(sdk), django_capture_on_commit_callbacks)

    [call] = hook_calls(stripe_hooks)
    event = recorded("checkout.session.completed")
    assert raw_body(call) == event.body.encode()
    assert json.loads(event.body)["id"] == event.event_id
    # Indented as Stripe's bodies are: re-serialising them would break the signature.
    assert raw_body(call) != json.dumps(json.loads(raw_body(call))).encode()
    assert (event.delivery, event.response_code, event.attempts) == ("delivered", 200, 1)
    assert event.sent_at is not None


def test_a_refusing_receiver_is_recorded_as_failed(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    stripe_hooks.replace("POST", STRIPE_HOOK_URL, status=400, json={"error": "bad signature"})

    pay(open_session(sdk), django_capture_on_commit_callbacks)

    event = recorded("checkout.session.completed")
    assert (event.delivery, event.response_code) == ("failed", 400)


def test_an_unreachable_receiver_is_recorded_and_the_payment_stands(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    stripe_hooks.replace("POST", STRIPE_HOOK_URL, body=requests.ConnectionError("refused"))

    answer = pay(open_session(sdk), django_capture_on_commit_callbacks)

    assert answer.status_code == 302
    event = recorded("checkout.session.completed")
    assert (event.delivery, event.response_code, event.error) == ("failed", None, "ConnectionError")


@pytest.mark.parametrize("missing", ["STRIPE_SANDBOX_WEBHOOK_URL", "STRIPE_WEBHOOK_SECRET"])
def test_nothing_is_sent_without_a_url_or_a_secret(
    sdk, stripe_hooks, settings, django_capture_on_commit_callbacks, missing
):
    setattr(settings, missing, "")

    pay(open_session(sdk), django_capture_on_commit_callbacks)

    assert hook_calls(stripe_hooks) == []
    event = recorded("checkout.session.completed")
    assert (event.delivery, event.error) == ("not_sent", f"{missing} is empty")


def test_events_wait_for_the_commit_and_vanish_on_rollback(
    stripe_sandbox, stripe_hooks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = webhooks.event_record(event_type="charge.refunded", data_object={"id": "ch_1"})
        webhooks.events_send(sent)
        assert hook_calls(stripe_hooks) == []
    assert len(hook_calls(stripe_hooks)) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        dropped = webhooks.event_record(event_type="charge.refunded", data_object={"id": "ch_2"})
        webhooks.events_send(dropped)
        raise RuntimeError("rolled back")
    assert len(hook_calls(stripe_hooks)) == 1
    assert not StripeSandboxEvent.objects.filter(body__contains="ch_2").exists()


def test_thread_dispatch_pauses_before_each_step_in_one_daemon_thread(
    sdk, stripe_hooks, monkeypatch, django_capture_on_commit_callbacks
):
    started, slept = [], []

    class FakeThread:
        def __init__(self, *, target, args, kwargs, name, daemon):
            started.append({"name": name, "daemon": daemon})
            self.run = lambda: target(*args, **kwargs)

        def start(self):
            self.run()

    monkeypatch.setattr(webhooks, "DISPATCH", "thread")
    monkeypatch.setattr(webhooks.threading, "Thread", FakeThread)
    monkeypatch.setattr(webhooks.time, "sleep", slept.append)
    monkeypatch.setattr(webhooks.connection, "close", lambda: None)  # the test's own connection
    session = open_session(sdk)

    with django_capture_on_commit_callbacks(execute=True):
        Client().post(page_path(session), {"action": "delayed"})

    assert started == [{"name": "stripe-sandbox-webhooks", "daemon": True}]
    assert slept == [webhooks.DISPATCH_DELAY_SECONDS, webhooks.ASYNC_SETTLE_SECONDS]
    assert event_types(stripe_hooks) == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]


@pytest.mark.django_db(transaction=True)
def test_thread_dispatch_really_sends_from_another_thread_in_order(sdk, stripe_hooks, monkeypatch):
    monkeypatch.setattr(webhooks, "DISPATCH", "thread")
    monkeypatch.setattr(webhooks, "DISPATCH_DELAY_SECONDS", 0.01)
    monkeypatch.setattr(webhooks, "ASYNC_SETTLE_SECONDS", 0.05)
    session = open_session(sdk)

    Client().post(page_path(session), {"action": "delayed"})

    deadline = time.monotonic() + 10
    while len(hook_calls(stripe_hooks)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    completed, succeeded = (verified_event(call) for call in hook_calls(stripe_hooks))
    assert completed.data.object.payment_status == "unpaid"
    assert succeeded.type == "checkout.session.async_payment_succeeded"
    assert succeeded.data.object.payment_status == "paid"
    deadline = time.monotonic() + 5  # the thread records the delivery just after the POST
    while recorded(succeeded.type).delivery == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorded(succeeded.type).delivery == "delivered"
