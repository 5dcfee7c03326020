"""Webhook intake for every gateway: check the signature on the raw bytes, store the delivery,
then dispatch by event through the gateway's own `{event: handler}` table (its `handlers`),
handing the handler the payment services as `ACTIONS`, each answered as a delivery outcome."""

import hashlib
import ipaddress
import logging

from django.utils import timezone

from ai_features.models import AICreditPurchase, WebhookEvent
from ai_features.payments.disputes import purchase_dispute_close, purchase_dispute_open
from ai_features.payments.fulfilment import Outcome as Settled
from ai_features.payments.fulfilment import purchase_fulfil
from ai_features.payments.gateways import gateway_for
from ai_features.payments.gateways.base import Answer, DisputeReport, Verdict
from ai_features.payments.invalid_webhooks import invalid_delivery_storable
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


def _refunded(refund) -> Answer:
    if refund is None:
        return Result.ALREADY_PROCESSED, "This refund was applied before."
    return Result.REFUNDED, (
        f"Took back {refund.credits_clawed_back} credits, reserved {refund.credits_reserved} "
        f"of those on hold; shortfall {refund.shortfall}."
    )


def _disputed(purchase: AICreditPurchase, report: DisputeReport) -> Answer:
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


class WebhookServices:
    """The payment services a gateway's webhook handlers act through (`base.WebhookActions`),
    each answered as the delivery's outcome."""

    def purchase_fulfil(self, *, purchase: AICreditPurchase, verdict: Verdict) -> Answer:
        settled = purchase_fulfil(purchase_id=purchase.pk, verdict=verdict, source="webhook")
        return SETTLED_TO_RESULT[settled.outcome], settled.message

    def refund_apply(self, *, purchase: AICreditPurchase, data: dict) -> Answer:
        return _refunded(purchase_refund_apply(purchase_id=purchase.pk, data=data))

    def refunded_total_apply(
        self, *, purchase: AICreditPurchase, total_minor: int, currency: str, refund_key: str
    ) -> Answer:
        refund = purchase_refunded_total_apply(
            purchase_id=purchase.pk,
            total_minor=total_minor,
            currency=currency,
            refund_key=refund_key,
        )
        return _refunded(refund)

    def dispute_apply(self, *, purchase: AICreditPurchase, report: DisputeReport) -> Answer:
        return _disputed(purchase, report)


ACTIONS = WebhookServices()
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
    handling = gateway_for(gateway)
    read = handling.webhook_read(raw_body=raw_body, headers=headers)
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
    elif (handler := handling.handlers.get(read.event)) is None:
        delivery.outcome, delivery.detail = Result.IGNORED, "Event not handled."
    else:
        try:
            delivery.outcome, delivery.detail = handler(read.data, ACTIONS)
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
