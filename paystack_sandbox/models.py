import secrets

from django.db import models


def access_code_new() -> str:
    return secrets.token_urlsafe(12)


class SandboxTransaction(models.Model):
    """A checkout opened with the sandbox's `transaction/initialize`."""

    class Status(models.TextChoices):
        ABANDONED = "abandoned", "Abandoned"  # Paystack reports an unpaid checkout as abandoned
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"

    reference = models.CharField(max_length=100, unique=True)
    access_code = models.CharField(max_length=32, unique=True, default=access_code_new)
    email = models.CharField(max_length=254)
    amount = models.PositiveBigIntegerField(help_text="In minor units (pesewas for GHS).")
    currency = models.CharField(max_length=3)
    channels = models.JSONField(default=list, blank=True)
    callback_url = models.CharField(max_length=2000, blank=True, default="")
    metadata = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ABANDONED)
    checkout_used = models.BooleanField(default=False)
    gateway_response = models.CharField(
        max_length=100, blank=True, default="The transaction was not completed"
    )
    authorization_code = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.reference} {self.amount} {self.currency} {self.status}"

    @property
    def channel(self) -> str:
        return self.channels[0] if self.channels else "card"


class SandboxRefund(models.Model):
    """A refund made with the sandbox's `POST /refund`; refunds of one transaction add up to at
    most its amount. Processed at once: `refund.processed` follows the answer."""

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"

    transaction = models.ForeignKey(
        SandboxTransaction, on_delete=models.CASCADE, related_name="refunds"
    )
    refund_reference = models.CharField(max_length=40, unique=True)
    amount = models.PositiveBigIntegerField(help_text="In minor units (pesewas for GHS).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSED)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.refund_reference} {self.amount} for {self.transaction.reference}"


# The Stripe stand-in's models live in their own module; importing them here registers them.
from paystack_sandbox.stripe_models import (  # noqa: E402, F401
    StripeSandboxCharge,
    StripeSandboxEvent,
    StripeSandboxIdempotencyKey,
    StripeSandboxLineItem,
    StripeSandboxPrice,
    StripeSandboxProduct,
    StripeSandboxRefund,
    StripeSandboxSession,
)
