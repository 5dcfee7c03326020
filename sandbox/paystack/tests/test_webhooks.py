"""webhook_send and webhook_dispatch: signed bytes, after commit, never raising into a request."""

import json
import logging
import time

import pytest
import requests
from django.db import transaction

from sandbox.paystack import services
from sandbox.paystack.tests.helpers import HOOK_URL, SECRET, webhook_calls, webhook_delivery

pytestmark = pytest.mark.django_db

DATA = {"reference": "AI-CRED-0001", "amount": 9400, "currency": "GHS", "note": "Gye Nyame ₵"}


def test_webhook_send_posts_the_signed_envelope(hooks):
    assert services.webhook_send("charge.success", DATA) is True

    [call] = webhook_calls(hooks)
    raw, payload = webhook_delivery(call)
    assert payload == {"event": "charge.success", "data": DATA}
    assert raw == json.dumps(payload, separators=(",", ":")).encode()
    assert call.request.method == "POST"


def test_webhook_send_uses_a_timeout(monkeypatch, settings):
    seen = {}

    def fake_post(url, **kwargs):
        seen.update(kwargs, url=url)
        return type("Answer", (), {"status_code": 200})()

    monkeypatch.setattr(services.requests, "post", fake_post)

    services.webhook_send("charge.success", DATA)

    assert seen["url"] == HOOK_URL
    assert seen["timeout"] == 10
    assert isinstance(seen["data"], bytes)
    assert seen["headers"]["Content-Type"] == "application/json"


def test_webhook_send_skips_without_a_url(settings, hooks, caplog):
    settings.PAYSTACK_SANDBOX_WEBHOOK_URL = ""

    with caplog.at_level(logging.INFO, logger="sandbox.paystack.services"):
        assert services.webhook_send("charge.success", DATA) is False

    assert len(hooks.calls) == 0
    assert "PAYSTACK_SANDBOX_WEBHOOK_URL is empty" in caplog.text


def test_webhook_send_logs_a_refusal_and_returns_false(hooks, caplog):
    hooks.replace("POST", HOOK_URL, status=400, json={"received": False})

    with caplog.at_level(logging.WARNING, logger="sandbox.paystack.services"):
        assert services.webhook_send("charge.success", DATA) is False

    assert "answered 400" in caplog.text


def test_webhook_send_logs_an_unreachable_receiver(hooks, caplog):
    hooks.replace("POST", HOOK_URL, body=requests.ConnectionError("refused"))

    with caplog.at_level(logging.WARNING, logger="sandbox.paystack.services"):
        assert services.webhook_send("charge.success", DATA) is False

    assert "ConnectionError" in caplog.text


def test_dispatch_waits_for_commit_and_drops_on_rollback(hooks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_dispatch("charge.success", DATA)
        assert webhook_calls(hooks) == []
    assert len(webhook_calls(hooks)) == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        services.webhook_dispatch("charge.success", DATA)
        raise RuntimeError("rolled back")
    assert len(webhook_calls(hooks)) == 1


def test_dispatch_never_raises_into_the_request(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(event, data):
        raise ValueError("boom")

    monkeypatch.setattr(services, "webhook_send", broken)

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services.webhook_dispatch("charge.success", DATA)

    assert "sandbox webhook charge.success failed" in caplog.text


def test_thread_dispatch_starts_a_delayed_daemon_thread(
    monkeypatch, hooks, django_capture_on_commit_callbacks
):
    started, slept = [], []

    class FakeThread:
        def __init__(self, *, target, args, name, daemon):
            started.append({"daemon": daemon, "name": name})
            self.run = lambda: target(*args)

        def start(self):
            self.run()

    monkeypatch.setattr(services, "DISPATCH", "thread")
    monkeypatch.setattr(services.threading, "Thread", FakeThread)
    monkeypatch.setattr(services.time, "sleep", slept.append)

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_dispatch("charge.success", DATA)

    assert started == [{"daemon": True, "name": "paystack-sandbox-charge.success"}]
    assert slept == [services.DISPATCH_DELAY_SECONDS] and 0 < slept[0] <= 1
    assert len(webhook_calls(hooks)) == 1


def test_thread_dispatch_really_sends_from_another_thread(
    monkeypatch, hooks, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "DISPATCH", "thread")
    monkeypatch.setattr(services, "DISPATCH_DELAY_SECONDS", 0.01)

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_dispatch("refund.processed", DATA)

    deadline = time.monotonic() + 5
    while not webhook_calls(hooks) and time.monotonic() < deadline:
        time.sleep(0.01)
    [call] = webhook_calls(hooks)
    assert webhook_delivery(call)[1]["event"] == "refund.processed"


def test_the_signature_is_keyed_with_the_secret_key():
    import hashlib
    import hmac

    body = b'{"event":"x","data":{}}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()
    assert services.webhook_sign(body, SECRET) == expected
