"""Paystack webhooks: check the signature, store the delivery, then dispatch by event."""

import hashlib
import logging

from django.utils import timezone

from ai_features.models import AICreditPurchase, PaystackWebhookEvent
from ai_features.payments.fulfilment import Outcome as Settled
from ai_features.payments.fulfilment import purchase_fulfil
from ai_features.payments.paystack import PaystackService, json_loads_finite
from ai_features.payments.refunds import purchase_refund_apply
from ai_features.services.money import pesewas_parse
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Result = PaystackWebhookEvent.Outcome

SETTLED_TO_RESULT = {
    Settled.CREDITED: Result.CREDITED,
    Settled.ALREADY_PROCESSED: Result.ALREADY_PROCESSED,
    Settled.PENDING: Result.PENDING,
    Settled.FAILED: Result.REJECTED,
}


def _purchase_by_reference(reference: str) -> AICreditPurchase | None:
    return AICreditPurchase.objects.filter(payment_reference=reference).first()


def _amount_problem(data: dict) -> str:
    """Why the event's amount cannot be money (then the event is rejected), or "".

    Rejected, not an error: the gateway retries anything but 200, and a bad amount stays bad."""
    if "amount" not in data:
        return "Rejected: the event has no amount."
    try:
        pesewas_parse(data["amount"])
    except ValueError as exc:
        return f"Rejected: amount {loggable(data['amount'], limit=40)} is {exc}."
    return ""


def _on_charge_success(data: dict) -> tuple[str, str]:
    if problem := _amount_problem(data):
        return Result.REJECTED, problem
    purchase = _purchase_by_reference(str(data.get("reference", "")))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this reference."
    settled = purchase_fulfil(purchase_id=purchase.pk, data=data, source="webhook")
    return SETTLED_TO_RESULT[settled.outcome], settled.message


def _on_refund_processed(data: dict) -> tuple[str, str]:
    if problem := _amount_problem(data):
        return Result.REJECTED, problem
    purchase = _purchase_by_reference(str(data.get("transaction_reference", "")))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this transaction reference."
    currency = str(data.get("currency") or purchase.currency).upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Refund in {currency}, purchase in {purchase.currency}."
    refund = purchase_refund_apply(purchase_id=purchase.pk, data=data)
    if refund is None:
        return Result.ALREADY_PROCESSED, "This refund was applied before."
    return Result.REFUNDED, (
        f"Took back {refund.credits_clawed_back} credits; shortfall {refund.shortfall}."
    )


def _on_refund_update(data: dict) -> tuple[str, str]:
    known = _purchase_by_reference(str(data.get("transaction_reference", ""))) is not None
    if not known:
        return Result.UNKNOWN_REFERENCE, "No purchase has this transaction reference."
    return Result.RECORDED, f"Refund status: {data.get('status')}."


HANDLERS = {
    "charge.success": _on_charge_success,
    "refund.processed": _on_refund_processed,
    "refund.pending": _on_refund_update,
    "refund.processing": _on_refund_update,
    "refund.failed": _on_refund_update,
    "refund.needs-attention": _on_refund_update,
}


SIGNED_KEPT = 64_000  # Paystack's events are a few KB; anything far larger is not from Paystack
# Anyone can post here: of an unsigned body only this much is kept, beside its size and sha256.
UNSIGNED_KEPT = 1024


def _storable(raw_body: bytes, keep: int) -> str:
    """The body's first `keep` bytes as text for audit, marked when cut. PostgreSQL text cannot
    hold NUL."""
    text = raw_body[:keep].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if len(raw_body) > keep:
        text += f"\n[... {len(raw_body)} bytes in all, cut]"
    return text


def _parse(raw_body: bytes) -> tuple[str, dict] | None:
    try:
        payload = json_loads_finite(raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return None
    return str(payload.get("event", "")), payload["data"]


def webhook_receive(
    *, raw_body: bytes, signature: str | None, remote_addr: str | None = None
) -> PaystackWebhookEvent:
    """Record a delivery, and act on it only if Paystack signed these exact bytes."""
    signed = PaystackService().is_valid_signature(raw_body, signature)
    delivery = PaystackWebhookEvent.objects.create(
        raw_body=_storable(raw_body, SIGNED_KEPT if signed else UNSIGNED_KEPT),
        body_size=len(raw_body),
        body_sha256=hashlib.sha256(raw_body).hexdigest(),
        signature_valid=signed,
        remote_addr=remote_addr,
    )
    parsed = _parse(raw_body)
    if parsed is not None:  # named for audit even when unsigned, but acted on only when signed
        event, data = parsed
        delivery.event = event[:60]
        reference = data.get("reference") or data.get("transaction_reference") or ""
        delivery.reference = str(reference)[:100]
    if not signed:
        delivery.outcome = Result.INVALID_SIGNATURE
    elif parsed is None:
        delivery.outcome = Result.MALFORMED
    elif (handler := HANDLERS.get(event)) is None:
        delivery.outcome, delivery.detail = Result.IGNORED, "Event not handled."
    else:
        try:
            delivery.outcome, delivery.detail = handler(data)
        except Exception as exc:  # recorded; Paystack retries on our non-200 answer
            logger.exception("webhook handling failed event=%s", loggable(event))
            delivery.outcome, delivery.detail = Result.ERROR, type(exc).__name__
    delivery.processed_at = timezone.now()
    delivery.save()
    _log(delivery, data if signed and parsed is not None else None)
    return delivery


def _log(delivery: PaystackWebhookEvent, data: dict | None) -> None:
    """One line per delivery. Nothing an unsigned body says reaches the log: anyone can write
    it. Signed values are Paystack's, still shown through `loggable`."""
    if not delivery.signature_valid:
        logger.warning(
            "paystack webhook unsigned bytes=%s sha256=%s remote_addr=%s outcome=%s",
            delivery.body_size,
            delivery.body_sha256[:16],
            delivery.remote_addr or "-",
            delivery.outcome,
        )
        return
    logger.info(
        "paystack webhook event=%s reference=%s amount=%s outcome=%s",
        loggable(delivery.event or "-"),
        loggable(delivery.reference or "-"),
        loggable(data.get("amount", "-")) if data is not None else "-",
        delivery.outcome,
    )
