"""POST /ai/api/webhooks/paystack/: signed, stored raw, dispatched by event (rules 7.3, 7.4)."""

import hashlib
import json
import logging
from decimal import Decimal

import pytest
from django.test import Client

from ai_features.models import AICreditPurchase, CreditLedgerEntry, WebhookEvent
from testing.credits import ledger_sum, stored_balance
from testing.factories import PurchaseFactory
from testing.paystack_api import (
    BAD_AMOUNTS,
    charge_success_body,
    deliver_webhook,
    paystack_json,
    paystack_raw,
    sign,
    with_amount,
)

pytestmark = pytest.mark.django_db
WEBHOOK = "/ai/api/webhooks/paystack/"
VECTORS = paystack_json("_generated_signature_vectors.json")["vectors"]


@pytest.fixture
def paid(business, paystack_settings):
    """A pending value purchase and the charge.success Paystack would send for it."""
    purchase = PurchaseFactory(business=business)
    return purchase, charge_success_body(purchase.payment_reference, 9400)


def test_the_webhook_alone_credits_the_purchase(client, business, paid):
    purchase, raw = paid

    response = deliver_webhook(client, raw)

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00") == ledger_sum(business)
    delivery = WebhookEvent.objects.get()
    assert (delivery.event, delivery.reference, delivery.outcome) == (
        "charge.success",
        purchase.payment_reference,
        "credited",
    )
    assert delivery.signature_valid and delivery.raw_body == raw.decode()


def test_a_replayed_charge_success_credits_once(client, business, paid):
    purchase, raw = paid

    responses = [deliver_webhook(client, raw) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert stored_balance(business) == Decimal("100.00")
    assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
    outcomes = list(WebhookEvent.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["credited", "already_processed", "already_processed"]


def test_verify_after_the_webhook_says_already_processed(client, api, business, paid, paystack):
    purchase, raw = paid
    deliver_webhook(client, raw)

    response = api.get("/ai/api/credits/verify/", {"reference": purchase.payment_reference})

    assert response.status_code == 200
    assert response.json()["message"] == "Payment already processed"
    assert response.json()["current_balance"] == 100
    assert not paystack.mock.calls


def test_a_webhook_credits_a_purchase_earlier_marked_failed(client, business, paystack_settings):
    purchase = PurchaseFactory(business=business, status="failed", failure_reason="abandoned")

    deliver_webhook(client, charge_success_body(purchase.payment_reference, 9400))

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00")


@pytest.mark.parametrize(("amount", "currency"), [(9300, "GHS"), (940000, "GHS"), (9400, "NGN")])
def test_a_charge_that_does_not_match_the_purchase_is_not_credited(
    client, business, paystack_settings, amount, currency
):
    purchase = PurchaseFactory(business=business)
    raw = charge_success_body(purchase.payment_reference, amount, currency)

    response = deliver_webhook(client, raw)

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "failed"
    assert stored_balance(business) == 0 and not CreditLedgerEntry.objects.exists()
    assert WebhookEvent.objects.get().outcome == "rejected"


def test_a_string_amount_and_lowercase_currency_are_the_same_payment(
    client, business, paystack_settings
):
    purchase = PurchaseFactory(business=business)

    deliver_webhook(client, charge_success_body(purchase.payment_reference, "9400", "ghs"))

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"


@pytest.mark.parametrize("literal", BAD_AMOUNTS)
def test_a_signed_charge_with_a_bad_amount_is_rejected_with_200(
    client, business, paystack_settings, literal
):
    """Regression: NaN or a negative amount answered 500, so Paystack would retry forever."""
    purchase = PurchaseFactory(business=business)
    payload = json.loads(charge_success_body(purchase.payment_reference, 9400))

    response = deliver_webhook(client, with_amount(payload, literal))

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "rejected"}
    delivery = WebhookEvent.objects.get()
    assert delivery.outcome == "rejected" and delivery.signature_valid
    assert "amount" in delivery.detail
    assert delivery.reference == purchase.payment_reference
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and purchase.gateway_response is None
    assert not CreditLedgerEntry.objects.exists()


def test_nan_elsewhere_in_a_signed_charge_is_stored_as_text_and_credits(
    client, business, paystack_settings
):
    purchase = PurchaseFactory(business=business)
    payload = json.loads(charge_success_body(purchase.payment_reference, 9400))
    payload["data"]["fees"] = "__FEES__"
    raw = json.dumps(payload).encode().replace(b'"__FEES__"', b"NaN")

    response = deliver_webhook(client, raw)

    assert response.status_code == 200
    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert purchase.gateway_response["fees"] == "NaN"
    assert stored_balance(business) == Decimal("100.00")


def test_a_missing_signature_is_400_and_changes_nothing(client, business, paid):
    purchase, raw = paid

    response = deliver_webhook(client, raw, signature=None)

    assert response.status_code == 400
    purchase.refresh_from_db()
    assert purchase.payment_status == "pending" and stored_balance(business) == 0
    delivery = WebhookEvent.objects.get()
    assert not delivery.signature_valid and delivery.outcome == "invalid_signature"
    assert delivery.event == "charge.success"  # named for audit, not acted on


@pytest.mark.parametrize(
    "signature",
    ["0" * 128, "not-hex", "", sign(b"other bytes"), sign(b"x", secret="sk_test_other")],
)
def test_a_wrong_signature_is_400_and_changes_nothing(client, business, paid, signature):
    purchase, raw = paid

    response = deliver_webhook(client, raw, signature=signature)

    assert response.status_code == 400
    assert stored_balance(business) == 0
    assert WebhookEvent.objects.get().outcome == "invalid_signature"


def test_a_signature_over_reserialised_json_is_refused(client, business, paid):
    purchase, raw = paid
    reserialised = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert reserialised != raw

    response = deliver_webhook(client, raw, signature=sign(reserialised))

    assert response.status_code == 400
    assert stored_balance(business) == 0


@pytest.mark.parametrize("vector", VECTORS, ids=[v["file"] for v in VECTORS])
def test_published_payloads_verify_on_their_exact_bytes_only(client, paystack_settings, vector):
    raw = paystack_raw(vector["file"])

    good = deliver_webhook(client, raw, signature=vector["x-paystack-signature"])
    bad = deliver_webhook(
        client, raw, signature=vector["signature_of_python_json_dumps_reserialized"]
    )

    assert good.status_code == 200  # their references are not ours: recorded, nothing credited
    assert bad.status_code == 400
    assert not CreditLedgerEntry.objects.exists()


def test_a_valid_delivery_with_a_secret_unset_is_refused(client, business, paid, settings):
    purchase, raw = paid
    settings.PAYSTACK_SECRET_KEY = ""

    assert deliver_webhook(client, raw).status_code == 400
    assert stored_balance(business) == 0


def test_an_unknown_reference_is_recorded_and_answered_200(client, paystack_settings):
    raw = charge_success_body("SOMEONE-ELSES-REF", 9400)

    response = deliver_webhook(client, raw)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "unknown_reference"


def test_an_event_not_handled_gets_200_and_changes_nothing(client, business, paid):
    raw = paystack_raw("webhook_bank_transfer_rejected.paystack-docs.json")

    response = deliver_webhook(client, raw)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored"
    assert not CreditLedgerEntry.objects.exists()
    assert AICreditPurchase.objects.get().payment_status == "pending"


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"event": "charge.success"}', b"\xff\xfe"])
def test_a_signed_but_malformed_body_is_400(client, paystack_settings, raw):
    response = deliver_webhook(client, raw)

    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == "malformed"


def test_variant_payload_shapes_are_tolerated(client, business, paystack_settings):
    """The classic card sample has metadata 0 and an empty plan; the real capture is compact."""
    for name in (
        "webhook_charge_success_card_ngn.paystack-docs.json",
        "webhook_charge_success_card_ngn_compact.real-capture-2025.json",
    ):
        purchase = PurchaseFactory(business=business)
        payload = paystack_json(name)
        payload["data"].update(reference=purchase.payment_reference, amount=9400, currency="GHS")
        assert deliver_webhook(client, json.dumps(payload).encode()).status_code == 200
        purchase.refresh_from_db()
        assert purchase.payment_status == "completed", name


def test_a_processing_error_is_recorded_and_answered_500_so_paystack_retries(
    client, business, paid, monkeypatch
):
    purchase, raw = paid

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("ai_features.payments.webhooks.purchase_fulfil", broken)

    response = deliver_webhook(client, raw)

    assert response.status_code == 500
    delivery = WebhookEvent.objects.get()
    assert delivery.outcome == "error" and delivery.detail == "RuntimeError"
    monkeypatch.undo()
    assert deliver_webhook(client, raw).status_code == 200
    assert stored_balance(business) == Decimal("100.00")


def test_the_webhook_needs_no_token_and_no_csrf_token(business, paid):
    purchase, raw = paid
    strict = Client(enforce_csrf_checks=True)

    response = deliver_webhook(strict, raw)

    assert response.status_code == 200
    assert stored_balance(business) == Decimal("100.00")


def test_only_post_is_accepted(client):
    assert client.get(WEBHOOK).status_code == 405


def test_a_non_ascii_signature_is_400_not_a_crash(client, business, paid):
    purchase, raw = paid

    response = client.generic(
        "POST",
        WEBHOOK,
        raw,
        content_type="application/json",
        HTTP_X_PAYSTACK_SIGNATURE="é" * 128,
    )

    assert response.status_code == 400
    assert WebhookEvent.objects.get().outcome == "invalid_signature"
    assert stored_balance(business) == 0


def test_a_body_with_a_nul_byte_is_stored_and_refused(client, paystack_settings):
    # Regression: PostgreSQL text cannot hold NUL, so storing the delivery raised and gave 500.
    raw = b'{"event": "charge.success", "data": {"reference": "x\x00"}}'

    response = deliver_webhook(client, raw, signature="0" * 128)

    assert response.status_code == 400
    delivery = WebhookEvent.objects.get()
    assert "\x00" not in delivery.raw_body and delivery.outcome == "invalid_signature"


def test_an_outsized_signed_body_is_stored_cut_short(client, paystack_settings):
    raw = b'{"event": "x", "data": {"junk": "' + b"a" * 200_000 + b'"}}'

    deliver_webhook(client, raw)

    delivery = WebhookEvent.objects.get()
    assert delivery.signature_valid and delivery.outcome == "ignored"
    assert delivery.raw_body == raw[:64_000].decode() + f"\n[... {len(raw)} bytes in all, cut]"
    assert delivery.body_size == len(raw)


def test_an_unsigned_body_is_kept_as_1_kb_with_its_size_and_hash(client, paystack_settings):
    """Regression: unsigned bodies were kept up to 64 KB each, so anyone could grow the table
    by 15 MB with 200 posts."""
    raw = b'{"event": "charge.success", "data": {"junk": "' + b"a" * 126_000 + b'"}}'

    response = deliver_webhook(client, raw, signature="0" * 128)

    assert response.status_code == 400
    delivery = WebhookEvent.objects.get()
    assert delivery.raw_body == raw[:1024].decode() + f"\n[... {len(raw)} bytes in all, cut]"
    assert delivery.body_size == len(raw)
    assert delivery.body_sha256 == hashlib.sha256(raw).hexdigest()
    assert delivery.event == "charge.success" and delivery.outcome == "invalid_signature"


def test_a_signed_body_is_stored_whole_with_its_size_and_hash(client, paid):
    purchase, raw = paid

    deliver_webhook(client, raw)

    delivery = WebhookEvent.objects.get()
    assert delivery.raw_body == raw.decode()
    assert (delivery.body_size, delivery.body_sha256) == (len(raw), hashlib.sha256(raw).hexdigest())


def logged_lines(caplog) -> list[str]:
    """What the console would show: each record formatted as the settings' LOGGING does."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


def test_an_unsigned_body_never_reaches_the_log(client, paid, caplog):
    """Regression: an unsigned body's amount was logged verbatim, so `\n<fake line>` in it
    wrote a forged line of its own into the server log."""
    caplog.set_level(logging.DEBUG)
    purchase, _ = paid
    forged = "\n2026-01-01 00:00:00,000 INFO [-] ai_features.payments.fulfilment purchase credited"
    payload = json.loads(charge_success_body(purchase.payment_reference, 9400))
    payload["event"] = "charge.success" + forged
    payload["data"].update(amount="9400" + forged, reference="REF" + forged)

    deliver_webhook(client, json.dumps(payload).encode(), signature="0" * 128)

    lines = logged_lines(caplog)
    webhook_line = next(line for line in lines if "paystack webhook" in line)
    assert "unsigned" in webhook_line and "outcome=invalid_signature" in webhook_line
    assert not any("purchase credited" in line or "REF" in line for line in lines)
    assert all("\n" not in line for line in lines)


def test_signed_values_are_logged_escaped_and_cut(client, business, paystack_settings, caplog):
    caplog.set_level(logging.DEBUG)
    payload = json.loads(charge_success_body("x", 9400))
    payload["data"]["reference"] = "REF\nINFO forged line" + "x" * 500

    deliver_webhook(client, json.dumps(payload).encode())

    webhook_line = next(line for line in logged_lines(caplog) if "paystack webhook" in line)
    assert "\n" not in webhook_line and "reference='REF\\nINFO forged line" in webhook_line
    assert "x" * 100 not in webhook_line and "outcome=unknown_reference" in webhook_line
