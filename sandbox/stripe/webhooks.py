"""Events the Stripe stand-in sends, signed as Stripe signs them, after the change commits.

An event's body is serialised once, when the change that caused it is made, and stored; each
delivery signs and posts those exact bytes with a fresh timestamp, as Stripe does per attempt.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from functools import partial

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.stripe import shapes
from sandbox.stripe.models import StripeSandboxEvent, stripe_id

logger = logging.getLogger(__name__)

# How events leave: "thread" sends from a daemon thread, pausing before each step (so the
# browser's redirect usually lands first, as with Stripe); tests set "inline" to send at once.
DISPATCH = "thread"
DISPATCH_DELAY_SECONDS = 0.3
# How long a delayed payment method takes to settle after checkout, in thread mode.
ASYNC_SETTLE_SECONDS = 3.0
WEBHOOK_TIMEOUT_SECONDS = 10
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

Step = tuple[float, Callable[[], object]]


def webhook_url() -> str:
    """STRIPE_SANDBOX_WEBHOOK_URL: where the app's Stripe webhook endpoint listens."""
    return (getattr(settings, "STRIPE_SANDBOX_WEBHOOK_URL", "") or "").strip()


def signing_secret() -> str:
    """STRIPE_WEBHOOK_SECRET: the `whsec_…` the app verifies with; the stand-in signs with it."""
    return (getattr(settings, "STRIPE_WEBHOOK_SECRET", "") or "").strip()


def _hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, payload: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">,v0=<hex>`.

    Test-mode deliveries also carry a `v0` that receivers must ignore; sending one (that never
    matches) catches a receiver that checks the wrong element.
    """
    signed = f"{timestamp}.".encode() + payload
    v1 = _hmac_hex(secret, signed)
    v0 = _hmac_hex(f"v0:{secret}", signed)
    return f"t={timestamp},v1={v1},v0={v0}"


def event_record(
    *, event_type: str, data_object: dict, request: dict | None = None
) -> StripeSandboxEvent:
    """Store an event with its body serialised once; `events_send` delivers it after commit."""
    event_id = stripe_id("evt_1")
    body = shapes.event(
        event_id=event_id,
        event_type=event_type,
        created=int(time.time()),
        data_object=data_object,
        pending_webhooks=1 if webhook_url() else 0,
        request=request,
    )
    # Indented, as Stripe's bodies are: a receiver that re-serialises before verifying fails.
    text = json.dumps(body, indent=2)
    return StripeSandboxEvent.objects.create(event_id=event_id, type=event_type, body=text)


def _record(event_pk: int, delivery: str, *, code: int | None = None, error: str = "") -> None:
    StripeSandboxEvent.objects.filter(pk=event_pk).update(
        delivery=delivery,
        response_code=code,
        error=error[:300],
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
    )


def event_deliver(*, event_pk: int) -> bool:
    """POST one stored event, signed; record the outcome. Never raises; True on a 2xx."""
    event = StripeSandboxEvent.objects.get(pk=event_pk)
    url, secret = webhook_url(), signing_secret()
    if not url or not secret:
        missing = "STRIPE_SANDBOX_WEBHOOK_URL" if not url else "STRIPE_WEBHOOK_SECRET"
        logger.info("stripe sandbox event %s not sent: %s is empty", event.type, missing)
        _record(event.pk, StripeSandboxEvent.Delivery.NOT_SENT, error=f"{missing} is empty")
        return False
    payload = event.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": signature_header(
            payload=payload, secret=secret, timestamp=int(time.time())
        ),
    }
    try:
        response = requests.post(
            url,
            data=payload,
            headers=headers,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,  # Stripe does not follow redirects either
        )
    except requests.RequestException as exc:
        logger.warning(
            "stripe sandbox event %s to %s failed: %s", event.type, url, type(exc).__name__
        )
        _record(event.pk, StripeSandboxEvent.Delivery.FAILED, error=type(exc).__name__)
        return False
    delivered = 200 <= response.status_code < 300
    if delivered:
        logger.info("stripe sandbox event %s delivered", event.type)
        _record(event.pk, StripeSandboxEvent.Delivery.DELIVERED, code=response.status_code)
    else:
        logger.warning(
            "stripe sandbox event %s to %s answered %s", event.type, url, response.status_code
        )
        _record(event.pk, StripeSandboxEvent.Delivery.FAILED, code=response.status_code)
    return delivered


def _run(steps: list[Step], *, in_thread: bool) -> None:
    try:
        for pause, step in steps:
            if in_thread:
                time.sleep(pause)
            try:
                step()
            except Exception:  # one failed step must not stop the rest, or kill the process
                logger.exception("stripe sandbox webhook step failed")
    finally:
        if in_thread:
            connection.close()  # the thread's own connection, not the request's


def after_commit(*steps: Step) -> None:
    """Run `(pause, step)` pairs in order once the current transaction commits: inline, or from
    one daemon thread that pauses before each step. Nothing runs if it rolls back."""

    def start():
        if DISPATCH == "inline":
            _run(list(steps), in_thread=False)
            return
        threading.Thread(
            target=_run,
            args=(list(steps),),
            kwargs={"in_thread": True},
            name="stripe-sandbox-webhooks",
            daemon=True,
        ).start()

    transaction.on_commit(start, robust=True)


def deliver_step(event: StripeSandboxEvent) -> Step:
    """A step that delivers `event`, after the usual short pause."""
    return DISPATCH_DELAY_SECONDS, partial(event_deliver, event_pk=event.pk)


def events_send(*events: StripeSandboxEvent) -> None:
    """Deliver `events` in order once the current transaction commits."""
    after_commit(*(deliver_step(event) for event in events))
