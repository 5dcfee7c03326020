"""The Stripe stand-in's state: a catalogue, Checkout Sessions and what paying them leaves behind.

Amounts are integers in the currency's smallest unit (cents), as Stripe keeps them; currencies
are lowercase ISO codes. Every object keeps Stripe's public id (`prod_…`, `cs_test_…`) as its key
for the API.
"""

import secrets
import string

from django.db import models

_ALPHABET = string.ascii_letters + string.digits


def stripe_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id: `prefix` then random base62, e.g. `price_1N4AEsLkdIwHu7ix7Ssho8Cl`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class StripeSandboxProduct(models.Model):
    stripe_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=250)
    description = models.TextField(null=True, blank=True)
    active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.stripe_id} {self.name}"


class StripeSandboxPrice(models.Model):
    """A one-time price; its amount, currency and product never change once created."""

    stripe_id = models.CharField(max_length=100, unique=True)
    product = models.ForeignKey(
        StripeSandboxProduct, on_delete=models.PROTECT, related_name="prices"
    )
    currency = models.CharField(max_length=3)
    unit_amount = models.PositiveBigIntegerField()
    active = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Unique among prices, as Stripe keeps it per account; null for most prices.
    lookup_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    nickname = models.CharField(max_length=250, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.stripe_id} {self.unit_amount} {self.currency}"


class StripeSandboxSession(models.Model):
    """A Checkout Session in `payment` mode."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    class PaymentStatus(models.TextChoices):
        PAID = "paid", "Paid"
        UNPAID = "unpaid", "Unpaid"

    class AsyncOutcome(models.TextChoices):
        """How a delayed payment method ends once it settles; blank for a card payment."""

        NONE = "", "None"
        SUCCEEDS = "succeeds", "Succeeds"
        FAILS = "fails", "Fails"

    stripe_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    currency = models.CharField(max_length=3)
    amount_total = models.PositiveBigIntegerField()
    success_url = models.CharField(max_length=5000, null=True, blank=True)
    cancel_url = models.CharField(max_length=5000, null=True, blank=True)
    client_reference_id = models.CharField(max_length=200, null=True, blank=True)
    customer_email = models.CharField(max_length=254, null=True, blank=True)
    customer_details_email = models.CharField(max_length=254, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    payment_intent_metadata = models.JSONField(default=dict, blank=True)
    payment_intent_id = models.CharField(max_length=100, null=True, blank=True)
    # Where the stand-in's own checkout page for this session lives, built from the create request.
    page_url = models.CharField(max_length=2000)
    async_outcome = models.CharField(
        max_length=10, choices=AsyncOutcome.choices, default=AsyncOutcome.NONE, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.stripe_id} {self.amount_total} {self.currency} {self.status}"


class StripeSandboxLineItem(models.Model):
    stripe_id = models.CharField(max_length=100, unique=True)
    session = models.ForeignKey(
        StripeSandboxSession, on_delete=models.CASCADE, related_name="line_items"
    )
    price = models.ForeignKey(StripeSandboxPrice, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return f"{self.stripe_id} {self.quantity} x {self.price.stripe_id}"

    @property
    def amount(self) -> int:
        return self.price.unit_amount * self.quantity


class StripeSandboxCharge(models.Model):
    """The successful card charge behind a paid session; refunds accumulate on it."""

    stripe_id = models.CharField(max_length=100, unique=True)
    session = models.OneToOneField(
        StripeSandboxSession, on_delete=models.CASCADE, related_name="charge"
    )
    payment_intent_id = models.CharField(max_length=100, unique=True)
    amount = models.PositiveBigIntegerField()
    amount_refunded = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount")),
                name="stripe_sandbox_charge_not_over_refunded",
            )
        ]

    def __str__(self):
        return f"{self.stripe_id} {self.amount} {self.currency} refunded {self.amount_refunded}"

    @property
    def refunded(self) -> bool:
        return self.amount_refunded >= self.amount


class StripeSandboxRefund(models.Model):
    stripe_id = models.CharField(max_length=100, unique=True)
    charge = models.ForeignKey(
        StripeSandboxCharge, on_delete=models.CASCADE, related_name="refunds"
    )
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=40, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.stripe_id} {self.amount} of {self.charge.stripe_id}"


class StripeSandboxDispute(models.Model):
    """The dispute (chargeback) of a charge, opened and closed by the stand-in's test helpers;
    a charge is disputed at most once, as at Stripe."""

    class Status(models.TextChoices):
        NEEDS_RESPONSE = "needs_response", "Needs response"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        WARNING_CLOSED = "warning_closed", "Warning closed"

    CLOSED = frozenset({Status.WON, Status.LOST, Status.WARNING_CLOSED})

    stripe_id = models.CharField(max_length=100, unique=True)
    charge = models.OneToOneField(
        StripeSandboxCharge, on_delete=models.CASCADE, related_name="dispute"
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEEDS_RESPONSE)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.stripe_id} {self.amount} of {self.charge.stripe_id} {self.status}"

    @property
    def closed(self) -> bool:
        return self.status in self.CLOSED


class StripeSandboxEvent(models.Model):
    """An event the stand-in sent (or tried to send) to STRIPE_SANDBOX_WEBHOOK_URL.

    `body` is the exact JSON text that was signed and posted, so tests can check the bytes.
    """

    class Delivery(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"  # the receiver answered 2xx
        FAILED = "failed", "Failed"  # a non-2xx answer, or no answer
        NOT_SENT = "not_sent", "Not sent"  # no webhook URL or no signing secret

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    body = models.TextField()
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.event_id} {self.type} {self.delivery}"


class StripeSandboxIdempotencyKey(models.Model):
    """The first answer to a POST with an `Idempotency-Key`, replayed for repeats.

    A row without `status_code` is a request still running: a concurrent repeat gets 409.
    """

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    request_id = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.key} {self.status_code}"
