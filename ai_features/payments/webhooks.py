"""Webhook intake for every gateway: check the signature on the raw bytes, store the delivery,
then dispatch by event through one `{event: handler}` table per gateway."""

import hashlib
import ipaddress
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ai_features.credits.money import from_minor_units, minor_units_parse
from ai_features.models import AICreditPurchase, InvalidWebhookCount, WebhookEvent
from ai_features.payments.disputes import (
    DisputeReport,
    purchase_dispute_close,
    purchase_dispute_open,
)
from ai_features.payments.fulfilment import Outcome as Settled
from ai_features.payments.fulfilment import purchase_fulfil
from ai_features.payments.gateways import gateway_for
from ai_features.payments.gateways.paystack import paystack_verdict
from ai_features.payments.gateways.stripe import session_verdict
from ai_features.payments.refunds import purchase_refund_apply, purchase_refunded_total_apply
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Result = WebhookEvent.DeliveryOutcome

SETTLED_TO_RESULT = {
    Settled.CREDITED: Result.CREDITED,
    Settled.ALREADY_PROCESSED: Result.ALREADY_PROCESSED,
    Settled.PENDING: Result.PENDING,
    Settled.FAILED: Result.REJECTED,
}


def _purchase(**lookup) -> AICreditPurchase | None:
    return AICreditPurchase.objects.filter(**lookup).first() if all(lookup.values()) else None


def _amount_problem(amount) -> str:
    """Why an event's amount cannot be money (then the event is rejected), or "".

    Rejected, not an error: the gateway retries anything but 200, and a bad amount stays bad."""
    try:
        minor_units_parse(amount)
    except ValueError as exc:
        return f"Rejected: amount {loggable(amount, limit=40)} is {exc}."
    return ""


# --- Paystack ---------------------------------------------------------------------------------


def _paystack_charge_success(data: dict) -> tuple[str, str]:
    if problem := _amount_problem(data.get("amount")):
        return Result.REJECTED, problem
    purchase = _purchase(payment_reference=str(data.get("reference", "")), gateway="paystack")
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this reference."
    settled = purchase_fulfil(
        purchase_id=purchase.pk, verdict=paystack_verdict(data), source="webhook"
    )
    return SETTLED_TO_RESULT[settled.outcome], settled.message


def _paystack_refund_processed(data: dict) -> tuple[str, str]:
    if problem := _amount_problem(data.get("amount")):
        return Result.REJECTED, problem
    purchase = _purchase(
        payment_reference=str(data.get("transaction_reference", "")), gateway="paystack"
    )
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase has this transaction reference."
    currency = str(data.get("currency") or "").upper()
    if not currency:
        return Result.REJECTED, "Rejected: the refund names no currency."
    if currency != purchase.currency:
        return Result.REJECTED, f"Refund in {loggable(currency)}, purchase in {purchase.currency}."
    applied = purchase_refund_apply(purchase_id=purchase.pk, data={**data, "currency": currency})
    return _refunded(applied)


def _paystack_refund_update(data: dict) -> tuple[str, str]:
    reference = str(data.get("transaction_reference", ""))
    if _purchase(payment_reference=reference, gateway="paystack") is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase has this transaction reference."
    return Result.RECORDED, f"Refund status: {loggable(data.get('status'), limit=30)}."


def _refunded(refund) -> tuple[str, str]:
    if refund is None:
        return Result.ALREADY_PROCESSED, "This refund was applied before."
    return Result.REFUNDED, (
        f"Took back {refund.credits_clawed_back} credits, reserved {refund.credits_reserved} "
        f"of those on hold; shortfall {refund.shortfall}."
    )


def _paystack_dispute(data: dict) -> tuple[str, str]:
    """`charge.dispute.create` and `.resolve`: `refund_amount` may be null (the whole payment);
    `resolution` is `declined` (the shop keeps the money) or `merchant-accepted`."""
    transaction = data.get("transaction") if isinstance(data.get("transaction"), dict) else {}
    reference = str(transaction.get("reference") or "")
    purchase = _purchase(payment_reference=reference, gateway="paystack")
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase is the disputed transaction."
    amount = data.get("refund_amount")
    if amount is not None and (problem := _amount_problem(amount)):
        return Result.REJECTED, problem
    currency = str(data.get("currency") or purchase.currency).upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Dispute in {loggable(currency)}, purchase in {purchase.currency}."
    resolution = data.get("resolution")
    if data.get("status") == "resolved" and resolution not in {"declined", "merchant-accepted"}:
        return Result.REJECTED, f"Rejected: resolution {loggable(resolution, limit=30)}."
    report = DisputeReport(
        dispute_id=f"paystack:{loggable(data.get('id'), limit=80)}",
        amount=None if amount is None else from_minor_units(amount),
        currency=currency,
        won=None if data.get("status") != "resolved" else resolution == "declined",
    )
    return _disputed(purchase, report)


def _disputed(purchase: AICreditPurchase, report: DisputeReport) -> tuple[str, str]:
    if report.won is None:
        dispute, changed = purchase_dispute_open(purchase_id=purchase.pk, report=report)
    else:
        dispute, changed = purchase_dispute_close(purchase_id=purchase.pk, report=report)
    if not changed:
        return Result.ALREADY_PROCESSED, f"Dispute already {dispute.status}: nothing changed."
    claim = dispute.clawback
    if claim is None:
        return Result.RECORDED, f"Dispute {dispute.status}; no credits were claimed."
    if claim.cancelled:
        return Result.RECORDED, f"Dispute won: {claim.returned} credits given back."
    return Result.REFUNDED, (
        f"Dispute {dispute.status}: took back {claim.taken} credits, reserved {claim.reserved} "
        f"of those on hold; shortfall {claim.shortfall}."
    )


# --- Stripe -----------------------------------------------------------------------------------


def _stripe_session_event(session: dict, *, failed_reason: str = "") -> tuple[str, str]:
    # By client_reference_id alone: it is the reference the verdict is checked against, so a
    # session naming no purchase of ours must not settle one found another way.
    reference = str(session.get("client_reference_id") or "")
    purchase = _purchase(payment_reference=reference, gateway="stripe")
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this client_reference_id."
    if problem := _amount_problem(session.get("amount_total")):
        return Result.REJECTED, problem
    if failed_reason and session.get("id") != purchase.checkout_session_id:
        # Only the purchase's own checkout can fail it. One replaced before anyone was sent to
        # it (a stale Price, see checkout_start) expires unpaid while the payer uses the new one.
        return Result.RECORDED, "Not the purchase's current checkout: nothing changed."
    verdict = session_verdict(session, failed_reason=failed_reason)
    settled = purchase_fulfil(purchase_id=purchase.pk, verdict=verdict, source="webhook")
    return SETTLED_TO_RESULT[settled.outcome], settled.message


def _stripe_checkout_completed(session: dict) -> tuple[str, str]:
    # `unpaid` here is a delayed method still on its way: the purchase waits for
    # async_payment_succeeded (or _failed).
    return _stripe_session_event(session)


def _stripe_async_failed(session: dict) -> tuple[str, str]:
    return _stripe_session_event(session, failed_reason="The delayed payment failed.")


def _stripe_session_expired(session: dict) -> tuple[str, str]:
    return _stripe_session_event(session, failed_reason="The checkout expired unpaid.")


def _stripe_charge_refunded(charge: dict) -> tuple[str, str]:
    if problem := _amount_problem(charge.get("amount_refunded")):
        return Result.REJECTED, problem
    metadata = charge.get("metadata") if isinstance(charge.get("metadata"), dict) else {}
    purchase = _purchase(
        payment_reference=str(metadata.get("reference") or ""), gateway="stripe"
    ) or _purchase(payment_intent_id=str(charge.get("payment_intent") or ""), gateway="stripe")
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this charge's reference or intent."
    currency = str(charge.get("currency") or "").upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Refund in {loggable(currency)}, purchase in {purchase.currency}."
    total = minor_units_parse(charge["amount_refunded"])
    # Stripe reports the charge's refunded total so far; the total names this state of it.
    key = f"stripe:{loggable(charge.get('id'), limit=80)}:{total}"
    refund = purchase_refunded_total_apply(
        purchase_id=purchase.pk, total_minor=total, currency=currency, refund_key=key
    )
    return _refunded(refund)


STRIPE_DISPUTE_WON = {"won": True, "warning_closed": True, "lost": False}


def _stripe_dispute(dispute: dict, *, closing: bool) -> tuple[str, str]:
    """`charge.dispute.created`, and `.closed` (`won`, `warning_closed` or `lost`)."""
    purchase = _purchase(
        payment_intent_id=str(dispute.get("payment_intent") or ""), gateway="stripe"
    )
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Stripe purchase has this dispute's payment intent."
    if problem := _amount_problem(dispute.get("amount")):
        return Result.REJECTED, problem
    currency = str(dispute.get("currency") or "").upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Dispute in {loggable(currency)}, purchase in {purchase.currency}."
    status = str(dispute.get("status") or "")
    if closing and status not in STRIPE_DISPUTE_WON:
        return Result.REJECTED, f"Rejected: a closed dispute with status {loggable(status)}."
    report = DisputeReport(
        dispute_id=f"stripe:{loggable(dispute.get('id'), limit=80)}",
        amount=from_minor_units(dispute["amount"]),
        currency=currency,
        won=STRIPE_DISPUTE_WON[status] if closing else None,
    )
    return _disputed(purchase, report)


def _stripe_dispute_created(dispute: dict) -> tuple[str, str]:
    return _stripe_dispute(dispute, closing=False)


def _stripe_dispute_closed(dispute: dict) -> tuple[str, str]:
    return _stripe_dispute(dispute, closing=True)


HANDLERS = {
    "paystack": {
        "charge.success": _paystack_charge_success,
        "refund.processed": _paystack_refund_processed,
        "refund.pending": _paystack_refund_update,
        "refund.processing": _paystack_refund_update,
        "refund.failed": _paystack_refund_update,
        "refund.needs-attention": _paystack_refund_update,
        "charge.dispute.create": _paystack_dispute,
        "charge.dispute.resolve": _paystack_dispute,
    },
    "stripe": {
        "checkout.session.completed": _stripe_checkout_completed,
        "checkout.session.async_payment_succeeded": _stripe_checkout_completed,
        "checkout.session.async_payment_failed": _stripe_async_failed,
        "checkout.session.expired": _stripe_session_expired,
        "charge.refunded": _stripe_charge_refunded,
        "charge.dispute.created": _stripe_dispute_created,
        "charge.dispute.closed": _stripe_dispute_closed,
    },
}
# What a processed event ended in: a later delivery of the same event id is not acted on again.
FINAL = {
    Result.CREDITED,
    Result.ALREADY_PROCESSED,
    Result.REJECTED,
    Result.REFUNDED,
    Result.RECORDED,
    Result.IGNORED,
    Result.PENDING,
    Result.UNKNOWN_REFERENCE,
}

SIGNED_KEPT = 64_000  # a gateway's events are a few KB; anything far larger is not from one
# Anyone can post here: of an unsigned body only this much is kept, beside its size and sha256.
UNSIGNED_KEPT = 1024


def _storable(raw_body: bytes, keep: int) -> str:
    """The body's first `keep` bytes as text for audit, marked when cut. PostgreSQL text cannot
    hold NUL."""
    text = raw_body[:keep].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if len(raw_body) > keep:
        text += f"\n[... {len(raw_body)} bytes in all, cut]"
    return text


def _seen_before(delivery: WebhookEvent) -> bool:
    if not delivery.event_id:
        return False  # Paystack names no event: its handlers are idempotent on their own
    return (
        WebhookEvent.objects.filter(
            gateway=delivery.gateway,
            event_id=delivery.event_id,
            signature_valid=True,
            outcome__in=FINAL,
        )
        .exclude(pk=delivery.pk)
        .exists()
    )


def webhook_receive(
    *, gateway: str, raw_body: bytes, headers, remote_addr: str | None = None
) -> WebhookEvent:
    """Record a delivery, and act on it only if the gateway signed these exact bytes.

    An unsigned one is stored only while its client address has sent no more than
    WEBHOOK_INVALID_PER_MINUTE of them this minute; past that it is counted, and the delivery
    answered is not saved (no pk)."""
    read = gateway_for(gateway).webhook_read(raw_body=raw_body, headers=headers)
    remote_addr = _address(remote_addr)
    if not read.signed and not invalid_delivery_storable(
        remote_addr=remote_addr, now=timezone.now()
    ):
        return WebhookEvent(
            gateway=gateway,
            signature_valid=False,
            remote_addr=remote_addr,
            outcome=Result.INVALID_SIGNATURE,
        )
    delivery = WebhookEvent.objects.create(
        gateway=gateway,
        raw_body=_storable(raw_body, SIGNED_KEPT if read.signed else UNSIGNED_KEPT),
        body_size=len(raw_body),
        body_sha256=hashlib.sha256(raw_body).hexdigest(),
        signature_valid=read.signed,
        remote_addr=remote_addr,
        # Named for audit even when unsigned, but acted on only when signed.
        event=read.event[:60],
        event_id=read.event_id[:255],
        reference=read.reference[:100],
    )
    if not read.signed:
        delivery.outcome = Result.INVALID_SIGNATURE
    elif read.data is None:
        delivery.outcome = Result.MALFORMED
    elif _seen_before(delivery):
        delivery.outcome, delivery.detail = Result.ALREADY_PROCESSED, "Event processed before."
    elif (handler := HANDLERS[gateway].get(read.event)) is None:
        delivery.outcome, delivery.detail = Result.IGNORED, "Event not handled."
    else:
        try:
            delivery.outcome, delivery.detail = handler(read.data)
        except Exception as exc:  # recorded; the gateway retries on our non-200 answer
            logger.exception(
                "webhook handling failed gateway=%s event=%s", gateway, loggable(read.event)
            )
            delivery.outcome, delivery.detail = Result.ERROR, type(exc).__name__
    delivery.processed_at = timezone.now()
    delivery.save()
    _log(delivery, read.data if read.signed else None)
    return delivery


def _address(remote_addr: str | None) -> str | None:
    """The client's address as an inet column takes it; None for a Unix socket's "" and the like."""
    try:
        return str(ipaddress.ip_address(remote_addr or ""))
    except ValueError:
        return None


_COUNTS = InvalidWebhookCount._meta.db_table
# Counts one unsigned delivery in its address's minute, and one more dropped once the minute has
# had more than the limit. One statement: the row lock ON CONFLICT takes serialises racing
# deliveries, so none is miscounted. (SET reads the row as it was.)
_COUNT_INVALID = (
    f"INSERT INTO {_COUNTS} (remote_addr, minute, received, dropped) "  # noqa: S608
    "VALUES (%(addr)s, %(minute)s, 1, CASE WHEN 1 > %(limit)s THEN 1 ELSE 0 END) "
    "ON CONFLICT (remote_addr, minute) DO UPDATE SET "
    f"received = {_COUNTS}.received + 1, "
    f"dropped = {_COUNTS}.dropped + CASE WHEN {_COUNTS}.received + 1 > %(limit)s THEN 1 ELSE 0 END "
    "RETURNING received, dropped"
)


def invalid_delivery_storable(*, remote_addr: str | None, now: datetime) -> bool:
    """Count one unsigned delivery from `remote_addr`: whether it is among the first
    WEBHOOK_INVALID_PER_MINUTE of its minute, and so is stored. Past the limit, only the count
    grows (InvalidWebhookCount, in the admin), and one warning a minute says so."""
    limit = settings.WEBHOOK_INVALID_PER_MINUTE
    minute = now.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_INVALID, {"addr": remote_addr, "minute": minute, "limit": limit})
        received, dropped = cursor.fetchone()
    if dropped == 1:
        logger.warning(
            "unsigned webhooks over %s a minute from remote_addr=%s: counted, not stored",
            limit,
            remote_addr or "-",
        )
    return received <= limit


def invalid_deliveries_purge(*, now: datetime) -> tuple[int, int]:
    """Delete the unsigned deliveries, and their counts, older than
    WEBHOOK_INVALID_RETENTION_DAYS: (deliveries, counts) deleted. Signed ones are kept."""
    before = now - timedelta(days=settings.WEBHOOK_INVALID_RETENTION_DAYS)
    deliveries = WebhookEvent.objects.filter(signature_valid=False, received_at__lt=before)
    counts = InvalidWebhookCount.objects.filter(minute__lt=before)
    return deliveries.delete()[0], counts.delete()[0]


def _log(delivery: WebhookEvent, data: dict | None) -> None:
    """One line per delivery. Nothing an unsigned body says reaches the log: anyone can write
    it. Signed values are the gateway's, still shown through `loggable`."""
    if not delivery.signature_valid:
        logger.warning(
            "%s webhook unsigned bytes=%s sha256=%s remote_addr=%s outcome=%s",
            delivery.gateway,
            delivery.body_size,
            delivery.body_sha256[:16],
            delivery.remote_addr or "-",
            delivery.outcome,
        )
        return
    amount = (data or {}).get("amount", (data or {}).get("amount_total", "-"))
    logger.info(
        "%s webhook event=%s reference=%s amount=%s outcome=%s",
        delivery.gateway,
        loggable(delivery.event or "-"),
        loggable(delivery.reference or "-"),
        loggable(amount),
        delivery.outcome,
    )
