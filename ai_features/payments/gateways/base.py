"""The one small interface every payment gateway sits behind, so fulfilment, verify, webhooks
and reconciliation are one path whatever the gateway (design section 2). A gateway module
imports this one and nothing of another gateway's."""

import enum
from dataclasses import dataclass, field
from typing import Protocol

from ai_features.models import AICreditPurchase


class VerdictStatus(enum.StrEnum):
    PAID = "paid"  # money received: credit it if amount, currency and reference match
    PENDING = "pending"  # still in progress at the gateway
    NOT_COMPLETED = "not_completed"  # the payer has not finished (yet): no payment, no failure
    FAILED = "failed"  # declined, reversed or expired: this checkout will never pay
    UNKNOWN = "unknown"  # the gateway has no payment for this purchase


@dataclass(frozen=True)
class Verdict:
    """What a gateway says about one purchase's payment, in the gateway's own minor units."""

    status: VerdictStatus
    reference: str  # our payment reference, as the gateway echoes it back
    amount_minor: int | None  # None when the gateway's amount is missing or not money
    currency: str
    gateway_status: str  # the gateway's own word, kept on the purchase
    raw: dict = field(default_factory=dict)
    reason: str = ""
    payment_intent_id: str = ""

    @classmethod
    def unknown(cls, *, purchase: AICreditPurchase, reason: str) -> "Verdict":
        """The gateway has no payment for this purchase (its checkout never reached it)."""
        return cls(
            status=VerdictStatus.UNKNOWN,
            reference=purchase.payment_reference,
            amount_minor=None,
            currency="",
            gateway_status="not_found",
            reason=reason,
        )


@dataclass(frozen=True)
class Checkout:
    """Where to send the payer, and the gateway's id of the checkout."""

    url: str
    checkout_id: str


@dataclass(frozen=True)
class WebhookDelivery:
    """A webhook body as its gateway's reader sees it. `event` is empty when the body is not
    an event at all; nothing in it may be acted on unless `signed`."""

    signed: bool
    event: str = ""
    event_id: str = ""
    reference: str = ""
    data: dict | None = None


class Gateway(Protocol):
    name: str

    def is_configured(self) -> bool:
        """Whether this server holds the keys to sell through the gateway."""

    def checkout_start(
        self,
        *,
        purchase: AICreditPurchase,
        email: str,
        return_url: str,
        cancel_url: str,
        channels: list[str] | None,
    ) -> Checkout:
        """Open a checkout for a pending purchase."""

    def verdict_fetch(self, *, purchase: AICreditPurchase) -> Verdict:
        """Ask the gateway what became of the purchase's payment."""

    def webhook_read(self, *, raw_body: bytes, headers) -> WebhookDelivery:
        """Check a webhook's signature over the raw bytes and read the event."""
