"""Buying credits: packages, purchases, refunds, disputes and webhook deliveries (design
sections 5, 6 and 13)."""

import secrets
import time
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, Value

from accounts.models import Business
from ai_features.models.credits import MONEY

TOLERANCE = Decimal("0.001")


class CreditPackage(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # In AI_CREDIT_CURRENCY (GHS), the one currency of Paystack sales and of invoices.
    price = models.DecimalField(**MONEY)
    credits = models.DecimalField(**MONEY)
    bonus_credits = models.DecimalField(**MONEY, default=0)
    is_active = models.BooleanField(default=True)
    display_order = models.PositiveIntegerField(default=0)
    # In STRIPE_CURRENCY (USD); a package without it is not sold through Stripe. The ids are
    # Stripe's, kept by `setup_stripe_credit_products`.
    stripe_price = models.DecimalField(**MONEY, null=True, blank=True)
    stripe_product_id = models.CharField(max_length=255, blank=True)
    stripe_price_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["display_order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="package_credits_positive"),
            models.CheckConstraint(
                condition=Q(bonus_credits__gte=0), name="package_bonus_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(stripe_price__isnull=True) | Q(stripe_price__gt=0),
                name="package_stripe_price_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def currency(self) -> str:
        return settings.AI_CREDIT_CURRENCY

    @property
    def total_credits(self):
        return self.credits + self.bonus_credits

    @property
    def savings_percent(self) -> int:
        """Bonus as a whole percent of the paid-for credits, half up (premium: 70/180 -> 39)."""
        return int((self.bonus_credits * 100 / self.credits).quantize(Decimal("1"), ROUND_HALF_UP))


def payment_reference_new() -> str:
    """`AI-CREDIT-<epoch ms>-<8 lowercase hex>`, as the seed's `uuid4().hex[:8]` makes them.

    Lookups match a reference exactly, so the uppercase ones issued before stay valid."""
    return f"AI-CREDIT-{int(time.time() * 1000)}-{secrets.token_hex(4)}"


class PurchaseManager(models.Manager):
    def create_with_reference(self, **fields) -> "AICreditPurchase":
        """Create a purchase with a fresh reference, drawing again on the rare collision."""
        for _ in range(5):
            try:
                with transaction.atomic():
                    return self.create(payment_reference=payment_reference_new(), **fields)
            except IntegrityError as exc:
                if "payment_reference" not in str(exc):
                    raise
        raise IntegrityError("Could not draw a unique payment reference in 5 tries")


class AICreditPurchase(models.Model):
    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    class PaymentMethod(models.TextChoices):
        MOBILE_MONEY = "mobile_money", "Mobile money"
        CARD = "card", "Card"
        ADMIN_GRANT = "admin_grant", "Admin grant"

    class Gateway(models.TextChoices):
        PAYSTACK = "paystack", "Paystack"
        STRIPE = "stripe", "Stripe"
        ADMIN = "admin", "Admin grant"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="ai_purchases")
    gateway = models.CharField(
        max_length=10, choices=Gateway.choices, default=Gateway.PAYSTACK, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    package = models.CharField(max_length=30)
    amount_paid = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY, default=0)
    total_amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="GHS")
    credits_purchased = models.DecimalField(**MONEY)
    bonus_credits = models.DecimalField(**MONEY, default=0)
    payment_reference = models.CharField(max_length=64, unique=True)
    payment_status = models.CharField(
        max_length=10,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
        db_index=True,
    )
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    tax_lines = models.JSONField(default=list, blank=True)
    callback_url = models.URLField(max_length=500, blank=True)
    authorization_url = models.URLField(max_length=2000, blank=True)
    access_code = models.CharField(max_length=100, blank=True)  # Paystack's checkout
    # Stripe's Checkout Session, and the payment intent its refunds name.
    checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    gateway_status = models.CharField(max_length=30, blank=True)
    gateway_response = models.JSONField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    purchased_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = PurchaseManager()

    class Meta:
        db_table = "ai_credit_purchases"
        ordering = ["-purchased_at", "-id"]
        # The keysets the purchases lists page by (pos.pagination): a shop's, and staff's.
        indexes = [
            models.Index(
                fields=["business", "-purchased_at", "-id"], name="purchase_business_recent"
            ),
            models.Index(fields=["-purchased_at", "-id"], name="purchase_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, total_tax__gte=0),
                name="purchase_money_not_negative",
            ),
            # Within a tenth of a pesewa rather than equal: SQLite adds decimals as floats
            # (429 + 75.09 != 504.09 there); PostgreSQL's numeric is exact either way.
            models.CheckConstraint(
                condition=Q(
                    total_amount__gte=F("amount_paid") + F("total_tax") - Value(TOLERANCE),
                    total_amount__lte=F("amount_paid") + F("total_tax") + Value(TOLERANCE),
                ),
                name="purchase_total_is_base_plus_tax",
            ),
            models.CheckConstraint(
                condition=Q(credits_purchased__gte=0, bonus_credits__gte=0),
                name="purchase_credits_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    payment_status__in=["pending", "completed", "failed", "refunded", "disputed"]
                ),
                name="purchase_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(payment_status="completed") | Q(completed_at__isnull=False),
                name="purchase_completed_has_time",
            ),
        ]

    def __str__(self):
        return self.payment_reference

    @property
    def total_credits(self):
        return self.credits_purchased + self.bonus_credits

    @property
    def refunded_credits(self) -> Decimal:
        """Credits its refunds and disputes have taken back so far (reserves paid included)."""
        return self._clawback_sum("taken") - self._clawback_sum("returned")

    @property
    def refund_shortfall(self) -> Decimal:
        """Credits its refunds and disputes could not take back: already spent."""
        return self._clawback_sum("shortfall", cancelled=False)

    def _clawback_sum(self, field: str, **extra) -> Decimal:
        annotated = getattr(self, f"clawback_{field}", None)  # see `purchases_with_clawbacks`
        if annotated is not None:
            return annotated
        total = self.clawbacks.filter(**extra).aggregate(total=models.Sum(field))["total"]
        return total or Decimal("0.00")


class PurchaseRefund(models.Model):
    """A processed refund of a purchase, from either gateway, and the claim it made."""

    purchase = models.ForeignKey(AICreditPurchase, on_delete=models.PROTECT, related_name="refunds")
    refund_key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    # None when it claimed nothing (the payment was never credited, or nothing was left).
    clawback = models.OneToOneField(
        "ai_features.CreditClawback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return f"{self.refund_key}: {self.amount} {self.currency}"

    @property
    def credits_clawed_back(self) -> Decimal:
        return self.clawback.taken if self.clawback else Decimal("0.00")

    @property
    def credits_reserved(self) -> Decimal:
        return self.clawback.reserved if self.clawback else Decimal("0.00")

    @property
    def shortfall(self) -> Decimal:
        return self.clawback.shortfall if self.clawback else Decimal("0.00")


class PurchaseDispute(models.Model):
    """A chargeback of a purchase, as its gateway reported it, and the claim it made."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won (the shop keeps the money)"
        LOST = "lost", "Lost (the money went back)"

    purchase = models.ForeignKey(
        AICreditPurchase, on_delete=models.PROTECT, related_name="disputes"
    )
    gateway = models.CharField(max_length=10, choices=AICreditPurchase.Gateway.choices)
    dispute_id = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    clawback = models.OneToOneField(
        "ai_features.CreditClawback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispute",
    )
    # A close that arrived before its open: recorded, and the open changes nothing later.
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ai_credit_disputes"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "dispute_id"], name="dispute_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "won", "lost"]), name="dispute_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.gateway} {self.dispute_id} ({self.status})"


class WebhookEvent(models.Model):
    """Every webhook delivery, stored before it is acted on, for audit: a signed body whole (up
    to 64 KB), an unsigned one only as its first 1 KB, its size and its sha256."""

    class DeliveryOutcome(models.TextChoices):
        RECEIVED = "received", "Received"
        INVALID_SIGNATURE = "invalid_signature", "Invalid signature"
        MALFORMED = "malformed", "Malformed"
        IGNORED = "ignored", "Ignored (event not handled)"
        UNKNOWN_REFERENCE = "unknown_reference", "Unknown reference"
        CREDITED = "credited", "Credited"
        ALREADY_PROCESSED = "already_processed", "Already processed"
        REJECTED = "rejected", "Rejected (not a valid payment)"
        PENDING = "pending", "Still pending"
        REFUNDED = "refunded", "Refund applied"
        RECORDED = "recorded", "Recorded"
        ERROR = "error", "Error"

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    gateway = models.CharField(
        max_length=10,
        choices=AICreditPurchase.Gateway.choices,
        default=AICreditPurchase.Gateway.PAYSTACK,
        db_index=True,
    )
    # The gateway's own id of the event (Stripe's evt_…); Paystack sends none.
    event_id = models.CharField(max_length=255, blank=True, db_index=True)
    event = models.CharField(max_length=60, blank=True, db_index=True)
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    raw_body = models.TextField()
    body_size = models.PositiveIntegerField(null=True, blank=True)  # null: stored before these
    body_sha256 = models.CharField(max_length=64, blank=True)
    signature_valid = models.BooleanField(default=False)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, choices=DeliveryOutcome.choices, default=DeliveryOutcome.RECEIVED
    )
    detail = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.event or '?'} {self.reference} ({self.outcome})"


class InvalidWebhookCount(models.Model):
    """Unsigned webhook deliveries (anyone can send them), per client address and minute: how
    many came, and how many of those were not stored because more than
    WEBHOOK_INVALID_PER_MINUTE came that minute (design 7.4). One upsert counts a delivery and
    says whether it may be stored; purged with the stored ones by `expire_ai_credits`."""

    remote_addr = models.GenericIPAddressField(null=True, blank=True)  # null: no address known
    minute = models.DateTimeField(db_index=True)
    received = models.PositiveIntegerField(default=0)
    dropped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-minute", "remote_addr"]
        constraints = [
            models.UniqueConstraint(
                fields=["remote_addr", "minute"],
                name="invalid_webhook_count_per_minute",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(dropped__lte=F("received")), name="invalid_webhook_dropped_received"
            ),
        ]

    def __str__(self):
        return f"{self.remote_addr or '-'} {self.minute:%Y-%m-%d %H:%M}: {self.dropped} dropped"
