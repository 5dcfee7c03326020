"""The one small interface every payment gateway sits behind, so fulfilment, verify, webhooks
and reconciliation are one path whatever the gateway (design section 2). A gateway module
imports this one and nothing of another gateway's, nor the payment services: its webhook
handlers reach those through the `WebhookActions` the intake hands them."""

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings

from ai_features.credits.money import minor_units_parse
from ai_features.models import AICreditPurchase, CreditPackage, WebhookEvent
from ai_features.payments.errors import CallbackUrlNotAllowed
from pos.logsafe import loggable

Result = WebhookEvent.DeliveryOutcome
# What handling one webhook event ended in: the delivery's outcome and its detail.
Answer = tuple[str, str]


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


@dataclass(frozen=True)
class Price:
    """What a gateway charges for a package: taxed prices get the tax lines on top."""

    amount: Decimal
    currency: str
    taxed: bool


@dataclass(frozen=True)
class DisputeReport:
    """What a gateway says about one dispute: its id, the money disputed (None: the whole
    payment) and, once it has closed, whether the shop won."""

    dispute_id: str
    amount: Decimal | None
    currency: str
    won: bool | None = None  # None: still open


class WebhookActions(Protocol):
    """What a gateway's webhook handlers may do to a purchase; each answers as the delivery's
    outcome. The intake (`payments/webhooks.py`) gives them these."""

    def purchase_fulfil(self, *, purchase: AICreditPurchase, verdict: Verdict) -> Answer:
        """Settle the purchase from the verdict (`fulfilment.purchase_fulfil`)."""

    def refund_apply(self, *, purchase: AICreditPurchase, data: dict) -> Answer:
        """Apply one refund, named by its own data (`refunds.purchase_refund_apply`)."""

    def refunded_total_apply(
        self, *, purchase: AICreditPurchase, total_minor: int, currency: str, refund_key: str
    ) -> Answer:
        """Apply the payment's refunded total so far (`refunds.purchase_refunded_total_apply`)."""

    def dispute_apply(self, *, purchase: AICreditPurchase, report: DisputeReport) -> Answer:
        """Open or close a dispute (`disputes.purchase_dispute_open` or `_close`)."""


# One webhook event's handler: its data object, and what it may do.
Handler = Callable[[dict, WebhookActions], Answer]


def purchase_find(**lookup) -> AICreditPurchase | None:
    """The purchase these fields name, or None when one of them is empty."""
    return AICreditPurchase.objects.filter(**lookup).first() if all(lookup.values()) else None


def amount_problem(amount) -> str:
    """Why an event's amount cannot be money (then the event is rejected), or "".

    Rejected, not an error: the gateway retries anything but 200, and a bad amount stays bad."""
    try:
        minor_units_parse(amount)
    except ValueError as exc:
        return f"Rejected: amount {loggable(amount, limit=40)} is {exc}."
    return ""


def return_url_checked(url: str) -> str:
    """A URL the gateway sends the browser back to: only to hosts we trust (no open redirect)."""
    parts = urlsplit(url)
    allowed = {host.lower() for host in settings.PAYMENT_CALLBACK_ALLOWED_HOSTS}
    # Browsers and Python disagree on what host `http://evil.example\@allowed/` names, so any
    # credentials or backslash in the URL is refused rather than parsed.
    ambiguous = "@" in parts.netloc or "\\" in url
    if (
        ambiguous
        or parts.scheme not in {"http", "https"}
        or ((parts.hostname or "").lower() not in allowed)
    ):
        raise CallbackUrlNotAllowed()
    return url


class Gateway(Protocol):
    name: str
    # The purchase column that keeps the gateway's id of its checkout.
    checkout_id_field: str
    # Whether the payer comes back to verify with that id rather than our reference.
    returns_with_checkout_id: bool
    # What the gateway does with each webhook event it sends: `{event: handler}`.
    handlers: Mapping[str, Handler]

    def is_configured(self) -> bool:
        """Whether this server holds the keys to sell through the gateway."""

    def package_price(self, *, package: CreditPackage) -> Price:
        """What a purchase of the package costs through this gateway; raises a DomainError
        when the gateway does not sell it."""

    def package_listed_price(self, *, package: CreditPackage) -> Price | None:
        """The package's price through this gateway in the packages listing, or None."""

    def custom_amount_check(self) -> None:
        """Raise a DomainError if the gateway does not sell a custom amount."""

    def purchase_options_refused(self, *, options: Mapping) -> dict[str, list[str]]:
        """The purchase request's fields this gateway does not take, as field errors ({}:
        none)."""

    def payment_method_for(self, *, requested: str) -> str:
        """The payment method a purchase through this gateway records."""

    def return_urls(
        self, *, callback_url: str | None, success_url: str | None, cancel_url: str | None
    ) -> tuple[str, str]:
        """Where the checkout sends the browser back to after paying, and on cancelling ("":
        the gateway's default, or none): checked against PAYMENT_CALLBACK_ALLOWED_HOSTS."""

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
