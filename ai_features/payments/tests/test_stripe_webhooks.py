"""POST /ai/api/webhooks/stripe/: `Stripe-Signature` checked over the raw bytes by the real SDK,
every delivery stored, each event processed once (design sections 7 and 13)."""

import importlib
import json
import logging
import types
from decimal import Decimal

import pytest

from ai_features.models import AICreditPurchase, CreditLedgerEntry, PurchaseRefund, WebhookEvent
from testing.credits import deduct_credits, ledger_sum, stored_balance
from testing.factories import PurchaseFactory, StripePurchaseFactory
from testing.stripe_api import (
    STRIPE_FIXTURES,
    charge_refunded_event,
    deliver_stripe,
    session_event,
    stripe_event,
    stripe_json,
    stripe_priced,
    stripe_signature,
)

pytestmark = pytest.mark.django_db
VECTORS = stripe_json("signature_vectors.json")["vectors"]


@pytest.fixture
def purchase(business, stripe_settings):
    """A pending Stripe purchase of the value package: 100 credits for USD 10.00."""
    stripe_priced("value", "10.00")
    return StripePurchaseFactory(business=business)


def outcomes():
    return list(WebhookEvent.objects.order_by("id").values_list("outcome", flat=True))


def assert_nothing_credited(business):
    assert stored_balance(business) == 0
    assert not CreditLedgerEntry.objects.exists()


def frozen_at(monkeypatch, unix_time):
    """Freeze the SDK's clock for a signature vector."""
    clock = types.SimpleNamespace(time=lambda: unix_time)
    monkeypatch.setattr(importlib.import_module("stripe._webhook"), "time", clock)


# --- signatures --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_signature_vectors(client, stripe_settings, monkeypatch, vector):
    raw = (STRIPE_FIXTURES / vector.get("payload_file", "signature_vector_body.json")).read_bytes()
    stripe_settings.STRIPE_WEBHOOK_SECRET = vector["secret"]
    frozen_at(monkeypatch, vector["verify_at_unix"])

    response = deliver_stripe(client, raw, signature=vector["stripe_signature_header"])

    delivery = WebhookEvent.objects.get()
    assert delivery.gateway == "stripe"
    assert delivery.event == "checkout.session.completed"
    assert delivery.body_sha256 and delivery.body_size == len(raw)
    if vector["expected"] == "valid":
        # Signed, but the session names none of our purchases (client_reference_id null).
        assert response.status_code == 200
        assert delivery.signature_valid and delivery.outcome == "unknown_reference"
        assert delivery.event_id == json.loads(raw)["id"]
    else:
        assert response.status_code == 400
        assert not delivery.signature_valid and delivery.outcome == "invalid_signature"


def test_the_genuine_delivery_is_stale_five_minutes_later(client, stripe_settings, monkeypatch):
    vector = VECTORS[-1]
    raw = (STRIPE_FIXTURES / vector["payload_file"]).read_bytes()
    stripe_settings.STRIPE_WEBHOOK_SECRET = vector["secret"]
    frozen_at(monkeypatch, vector["also_expected"]["verify_at_unix"])

    response = deliver_stripe(client, raw, signature=vector["stripe_signature_header"])

    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == "invalid_signature"


def _paid_raw(purchase) -> bytes:
    return json.dumps(session_event(purchase, payment_status="paid")).encode()


def _stale(raw):
    import time

    return stripe_signature(raw, timestamp=int(time.time()) - 301)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("t=1700000000,v1=" + "0" * 64, id="wrong"),
        pytest.param("garbage", id="unparseable"),
        pytest.param(lambda raw: stripe_signature(raw, secret="whsec_someone_else"), id="other"),
        pytest.param(_stale, id="older-than-300s"),
        pytest.param(lambda raw: stripe_signature(raw).replace("v1=", "v0="), id="v0-only"),
        # Regression: a non-ASCII signature made hmac.compare_digest raise TypeError (500).
        pytest.param("t=1700000000,v1=\u00e9\u00e9", id="non-ascii"),
    ],
)
def test_a_bad_signature_gets_400_and_credits_nothing(client, business, purchase, signature):
    raw = _paid_raw(purchase)
    if callable(signature):
        signature = signature(raw)

    response = deliver_stripe(client, raw, signature=signature)

    assert response.status_code == 400
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"
    assert_nothing_credited(business)
    delivery = WebhookEvent.objects.get()
    assert (delivery.gateway, delivery.signature_valid, delivery.outcome) == (
        "stripe",
        False,
        "invalid_signature",
    )


def test_a_re_serialised_body_no_longer_matches_its_signature(client, business, purchase):
    raw = _paid_raw(purchase)
    signature = stripe_signature(raw)
    reserialised = json.dumps(json.loads(raw), indent=2).encode()

    response = deliver_stripe(client, reserialised, signature=signature)

    assert response.status_code == 400
    assert_nothing_credited(business)


def test_without_a_webhook_secret_nothing_is_signed(client, business, purchase, settings):
    raw = _paid_raw(purchase)
    signature = stripe_signature(raw)
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = deliver_stripe(client, raw, signature=signature)

    assert response.status_code == 400
    assert_nothing_credited(business)


def test_a_body_that_is_not_utf8_is_never_taken_as_signed(client, business, purchase):
    """Regression: the SDK's UTF-8 decode error is a ValueError, which was read as "signed but
    not JSON": the delivery was stored as signed, its body kept whole."""
    raw = _paid_raw(purchase) + b"\xff" * 2000

    response = deliver_stripe(client, raw, signature="t=1700000000,v1=" + "0" * 64)

    assert response.status_code == 400
    delivery = WebhookEvent.objects.get()
    assert not delivery.signature_valid and delivery.outcome == "invalid_signature"
    assert len(delivery.raw_body) < 1100  # only the first KB of an unsigned body is kept


def test_an_unsigned_body_never_reaches_the_log(client, purchase, caplog):
    caplog.set_level(logging.DEBUG)
    raw = _paid_raw(purchase)

    deliver_stripe(client, raw, signature=None)

    assert "stripe webhook unsigned" in caplog.text
    assert purchase.payment_reference not in caplog.text


# --- checkout.session.* ------------------------------------------------------------------


def test_a_paid_checkout_session_completed_credits_the_purchase(client, business, purchase):
    event = session_event(purchase, payment_status="paid")

    response = deliver_stripe(client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "credited"}
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and purchase.completed_at
    assert purchase.payment_intent_id == event["data"]["object"]["payment_intent"]
    assert purchase.gateway_status == "complete/paid"
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)
    delivery = WebhookEvent.objects.get()
    assert (delivery.gateway, delivery.event, delivery.event_id, delivery.reference) == (
        "stripe",
        "checkout.session.completed",
        event["id"],
        purchase.payment_reference,
    )
    assert delivery.signature_valid and json.loads(delivery.raw_body) == event


def test_the_same_event_delivered_twice_is_processed_once(client, business, purchase):
    raw = _paid_raw(purchase)

    answers = [deliver_stripe(client, raw) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert outcomes() == ["credited", "already_processed", "already_processed"]
    assert WebhookEvent.objects.filter(detail="Event processed before.").count() == 2
    assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
    assert stored_balance(business) == Decimal("100.00")


def test_completed_and_async_succeeded_for_one_session_credit_once(client, business, purchase):
    deliver_stripe(client, session_event(purchase, payment_status="paid"))
    deliver_stripe(
        client,
        session_event(purchase, "checkout.session.async_payment_succeeded", payment_status="paid"),
    )

    assert outcomes() == ["credited", "already_processed"]
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)


def test_an_unpaid_completed_session_waits_for_async_payment_succeeded(client, business, purchase):
    """A delayed method (SEPA debit, as the CLI's async triggers use): complete but unpaid."""
    waiting = deliver_stripe(client, session_event(purchase, payment_status="unpaid"))

    assert waiting.status_code == 200 and waiting.json()["outcome"] == "pending"
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"
    assert purchase.gateway_status == "complete/unpaid"
    assert_nothing_credited(business)

    paid = deliver_stripe(
        client,
        session_event(purchase, "checkout.session.async_payment_succeeded", payment_status="paid"),
    )

    assert paid.json()["outcome"] == "credited"
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)


@pytest.mark.parametrize(
    ("event_type", "session", "reason"),
    [
        (
            "checkout.session.async_payment_failed",
            {"status": "complete", "payment_status": "unpaid"},
            "The delayed payment failed.",
        ),
        (
            "checkout.session.expired",
            {"status": "expired", "payment_status": "unpaid", "payment_intent": None},
            "The checkout expired unpaid.",
        ),
    ],
)
def test_a_failed_or_expired_checkout_fails_a_pending_purchase(
    client, business, purchase, event_type, session, reason
):
    response = deliver_stripe(client, session_event(purchase, event_type, **session))

    assert response.status_code == 200 and response.json()["outcome"] == "rejected"
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed" and purchase.failure_reason == reason
    assert_nothing_credited(business)


@pytest.mark.parametrize(
    "event_type", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_the_failure_of_a_replaced_checkout_leaves_the_purchase_pending(
    client, business, purchase, event_type
):
    """Regression: when a stale Price's checkout is expired and replaced (checkout_start), its
    checkout.session.expired failed the purchase whose new checkout the payer was on; failed
    with gateway_status expired/unpaid, reconciliation would never ask about it again."""
    stale = session_event(
        purchase, event_type, id="cs_test_replaced", status="expired", payment_status="unpaid"
    )

    response = deliver_stripe(client, stale)

    assert response.status_code == 200 and response.json()["outcome"] == "recorded"
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and not purchase.failure_reason
    paid = deliver_stripe(client, session_event(purchase, payment_status="paid"))
    assert paid.json()["outcome"] == "credited"


@pytest.mark.parametrize(
    ("event_type", "session"),
    [
        ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}),
        ("checkout.session.expired", {"status": "expired", "payment_status": "unpaid"}),
        ("checkout.session.completed", {"payment_status": "unpaid"}),
    ],
)
def test_a_late_failure_never_uncredits_a_completed_purchase(
    client, business, purchase, event_type, session
):
    deliver_stripe(client, session_event(purchase, payment_status="paid"))

    response = deliver_stripe(client, session_event(purchase, event_type, **session))

    assert response.status_code == 200 and response.json()["outcome"] == "already_processed"
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and not purchase.failure_reason
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)


def test_a_paid_session_credits_a_purchase_failed_earlier(client, business, purchase):
    """Money received always gives credits (rule 7.3), even after an expiry was recorded."""
    deliver_stripe(client, session_event(purchase, "checkout.session.expired", status="expired"))

    deliver_stripe(
        client,
        session_event(purchase, "checkout.session.async_payment_succeeded", payment_status="paid"),
    )

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed" and not purchase.failure_reason
    assert stored_balance(business) == Decimal("100.00")


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_total": 999},
        {"amount_total": 100000},
        {"currency": "eur"},
        {"currency": "ghs"},
    ],
    ids=["short", "ten-times", "eur", "ghs"],
)
def test_a_paid_session_that_does_not_match_the_purchase_is_rejected(
    client, business, purchase, changes
):
    response = deliver_stripe(client, session_event(purchase, payment_status="paid", **changes))

    assert response.status_code == 200 and response.json()["outcome"] == "rejected"
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed"
    assert "does not match" in purchase.failure_reason
    assert_nothing_credited(business)


def _with_amount_total(event: dict, literal: bytes | None) -> bytes:
    if literal is None:
        del event["data"]["object"]["amount_total"]
        return json.dumps(event).encode()
    event["data"]["object"]["amount_total"] = "__AMOUNT__"
    return json.dumps(event).encode().replace(b'"__AMOUNT__"', literal)


@pytest.mark.parametrize(
    "literal",
    [b"NaN", b'"NaN"', b"-Infinity", b"1e400", b"-1000", b"0", b"10.5", b"null", b"true", None],
    ids=[
        "NaN",
        "NaN-string",
        "-inf",
        "huge-float",
        "negative",
        "zero",
        "float",
        "null",
        "bool",
        "missing",
    ],
)
def test_a_signed_session_with_a_bad_amount_is_rejected_with_200(
    client, business, purchase, literal
):
    """Regression: a NaN amount_total reached the purchase's JSON column, which PostgreSQL
    refuses: 500, and Stripe would retry the event for days."""
    raw = _with_amount_total(session_event(purchase, payment_status="paid"), literal)

    response = deliver_stripe(client, raw)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "rejected"
    assert_nothing_credited(business)
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"


def test_an_unknown_client_reference_id_is_answered_200_unknown_reference(
    client, business, purchase
):
    """Regression: a session naming no purchase of ours was matched by its session id instead,
    and failed that purchase as 'the reference does not match'."""
    event = session_event(purchase, payment_status="paid", client_reference_id="AI-CREDIT-nope")

    response = deliver_stripe(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "unknown_reference"
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and not purchase.failure_reason
    assert_nothing_credited(business)


def test_a_paystack_reference_in_a_stripe_event_is_unknown(client, business, stripe_settings):
    paystack_purchase = PurchaseFactory(business=business)
    session = session_event(paystack_purchase, payment_status="paid")

    response = deliver_stripe(client, session)

    assert response.json()["outcome"] == "unknown_reference"
    assert_nothing_credited(business)


def test_the_published_completed_event_names_no_purchase_of_ours(client, business, purchase):
    raw = (STRIPE_FIXTURES / "event.checkout.session.completed.json").read_bytes()

    response = deliver_stripe(client, raw)

    assert response.status_code == 200 and response.json()["outcome"] == "unknown_reference"
    assert_nothing_credited(business)


def test_an_unhandled_event_is_ignored(client, business, stripe_settings):
    event = stripe_json("event.object.api_reference.json")

    response = deliver_stripe(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    delivery = WebhookEvent.objects.get()
    assert (delivery.event, delivery.event_id) == ("setup_intent.created", event["id"])


# --- charge.refunded ---------------------------------------------------------------------


@pytest.fixture
def credited(client, business, purchase):
    deliver_stripe(client, session_event(purchase, payment_status="paid"))
    purchase.refresh_from_db()
    assert stored_balance(business) == Decimal("100.00")
    return purchase


def test_partial_refunds_accumulate(client, business, credited):
    first = deliver_stripe(client, charge_refunded_event(credited, 300))
    second = deliver_stripe(client, charge_refunded_event(credited, 1000))

    assert [first.status_code, second.status_code] == [200, 200]
    refunds = PurchaseRefund.objects.order_by("id")
    assert [r.amount for r in refunds] == [Decimal("3.00"), Decimal("7.00")]
    assert [r.credits_clawed_back for r in refunds] == [Decimal("30.00"), Decimal("70.00")]
    assert {r.currency for r in refunds} == {"USD"}
    credited.refresh_from_db()
    assert credited.payment_status == "refunded"
    assert credited.refunded_credits == Decimal("100.00")
    assert stored_balance(business) == 0 == ledger_sum(business)
    refund_entries = CreditLedgerEntry.objects.filter(kind="refund").order_by("id")
    assert [e.amount for e in refund_entries] == [Decimal("-30.00"), Decimal("-70.00")]


def test_a_repeated_refund_event_takes_nothing_more(client, business, credited):
    event = charge_refunded_event(credited, 300)

    deliver_stripe(client, event)
    again = deliver_stripe(client, event)
    # Another event (new id) reporting the same refunded total.
    same_total = deliver_stripe(client, charge_refunded_event(credited, 300))

    assert again.status_code == same_total.status_code == 200
    assert outcomes()[-3:] == ["refunded", "already_processed", "already_processed"]
    assert PurchaseRefund.objects.count() == 1
    assert stored_balance(business) == Decimal("70.00") == ledger_sum(business)


def test_refund_totals_arriving_out_of_order_take_nothing_twice(client, business, credited):
    deliver_stripe(client, charge_refunded_event(credited, 1000))
    late = deliver_stripe(client, charge_refunded_event(credited, 300))

    assert late.json()["outcome"] == "already_processed"
    assert stored_balance(business) == 0 == ledger_sum(business)


def test_a_refund_is_found_by_payment_intent_when_the_charge_has_no_metadata(
    client, business, credited
):
    """The current Charge shape (charge.json) has empty metadata; its payment_intent is the
    one the completed session named."""
    event = charge_refunded_event(credited, 500, metadata={})

    response = deliver_stripe(client, event)

    assert response.json()["outcome"] == "refunded"
    assert stored_balance(business) == Decimal("50.00")


def test_a_refund_of_spent_credits_records_the_shortfall(client, business, credited):
    deduct_credits(business, Decimal("80.00"))

    deliver_stripe(client, charge_refunded_event(credited, 1000))

    credited.refresh_from_db()
    assert credited.refunded_credits == Decimal("20.00")
    assert credited.refund_shortfall == Decimal("80.00")
    assert stored_balance(business) == 0 == ledger_sum(business)


def test_a_refund_before_crediting_is_recorded_and_crediting_gives_the_kept_share(
    client, business, purchase
):
    refunded = deliver_stripe(client, charge_refunded_event(purchase, 300))

    assert refunded.json()["outcome"] == "refunded"
    assert_nothing_credited(business)
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"

    deliver_stripe(client, session_event(purchase, payment_status="paid"))

    purchase.refresh_from_db()
    assert purchase.payment_status == "refunded"
    assert stored_balance(business) == Decimal("70.00") == ledger_sum(business)


@pytest.mark.parametrize("amount_refunded", [0, -300, "NaN", None, 10.5, "lots"], ids=str)
def test_a_refund_with_a_bad_amount_is_rejected_with_200(
    client, business, credited, amount_refunded
):
    event = charge_refunded_event(credited, 300)
    event["data"]["object"]["amount_refunded"] = amount_refunded

    response = deliver_stripe(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "rejected"
    assert not PurchaseRefund.objects.exists()
    assert stored_balance(business) == Decimal("100.00")


def test_a_refund_in_another_currency_is_rejected(client, business, credited):
    response = deliver_stripe(client, charge_refunded_event(credited, 300, currency="eur"))

    assert response.json()["outcome"] == "rejected"
    assert stored_balance(business) == Decimal("100.00")


def test_a_refund_of_an_unknown_charge_is_unknown_reference(client, business, credited):
    event = charge_refunded_event(
        credited, 300, metadata={}, payment_intent="pi_not_ours_0000000000"
    )

    response = deliver_stripe(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "unknown_reference"
    assert stored_balance(business) == Decimal("100.00")


def test_a_refund_event_delivered_twice_is_stored_twice_and_applied_once(
    client, business, credited
):
    event = charge_refunded_event(credited, 1000)

    deliver_stripe(client, event)
    deliver_stripe(client, event)

    assert WebhookEvent.objects.filter(event="charge.refunded").count() == 2
    assert WebhookEvent.objects.filter(event_id=event["id"], outcome="refunded").count() == 1


def test_deliveries_are_stored_with_gateway_and_event_id(client, business, purchase):
    event = stripe_event("customer.created", {"id": "cus_test_1", "object": "customer"})

    deliver_stripe(client, event)
    deliver_stripe(client, event, signature=None)

    signed, unsigned = WebhookEvent.objects.order_by("id")
    assert (signed.gateway, signed.event_id, signed.signature_valid) == (
        "stripe",
        event["id"],
        True,
    )
    assert (unsigned.gateway, unsigned.event_id, unsigned.signature_valid) == (
        "stripe",
        event["id"],
        False,
    )
    assert AICreditPurchase.objects.get().payment_status == "pending"
