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


class SandboxDispute(models.Model):
    """A dispute (chargeback) on a paid transaction, opened and resolved by the sandbox's own
    calls: Paystack's come from the customer's bank."""

    class Status(models.TextChoices):
        AWAITING_MERCHANT = "awaiting-merchant-feedback", "Awaiting merchant feedback"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        MERCHANT_ACCEPTED = "merchant-accepted", "Merchant accepted"  # the customer is refunded
        DECLINED = "declined", "Declined"  # the merchant keeps the money

    transaction = models.ForeignKey(
        SandboxTransaction, on_delete=models.CASCADE, related_name="disputes"
    )
    # Minor units; null when the customer's bank named no amount (then it is the whole payment).
    refund_amount = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    category = models.CharField(max_length=20, default="chargeback")
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.AWAITING_MERCHANT
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"dispute {self.pk} of {self.transaction.reference} {self.status}"
