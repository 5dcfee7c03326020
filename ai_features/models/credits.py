"""The credits core's tables: balances (with what is on hold and reserved), usage, alerts, the
ledger, refund and dispute claims, and the daily usage rollup (design section 6).

Money and credits are Decimal(12, 2). Every invariant that can be is a database constraint.
The tables the seed's ops queries read keep the seed's names (`db_table`).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import Business

MONEY = {"max_digits": 12, "decimal_places": 2}
CREDIT_KINDS = ["purchase", "grant", "usage_release", "dispute_return"]
DEBIT_KINDS = ["usage", "refund", "dispute", "expiry"]


class BusinessAICredits(models.Model):
    """A business's balance. Expired rows stay, inactive and at zero, for history."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="ai_credits")
    balance = models.DecimalField(**MONEY, default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # When these credits were first created (the seed's meaning); the expiry clock runs from
    # the last top-up instead.
    purchased_at = models.DateTimeField(null=True, blank=True)
    last_topped_up_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Alert bookkeeping: low_balance fires once until a top-up lifts the balance back up, and
    # expiring_soon once per expiry date.
    low_balance_alerted = models.BooleanField(default=False)
    expiry_warned_for = models.DateTimeField(null=True, blank=True)
    # What pending holds taken from this row have on hold, and how much of that open refunds
    # and disputes have reserved: a hold released later pays the reserve before the balance
    # (design section 7, rule 5).
    held = models.DecimalField(**MONEY, default=0)
    clawback_reserved = models.DecimalField(**MONEY, default=0)

    class Meta:
        db_table = "business_ai_credits"
        verbose_name_plural = "business AI credits"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    held__gte=0, clawback_reserved__gte=0, clawback_reserved__lte=F("held")
                ),
                name="credits_reserve_within_held",
            ),
            models.UniqueConstraint(
                fields=["business"],
                condition=Q(is_active=True),
                name="credits_one_active_per_business",
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="credits_balance_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.business}: {self.balance}"


class AITransaction(models.Model):
    """One use of an AI feature and what it cost; `pending` while its credits are on hold."""

    class UsageStatus(models.TextChoices):
        PENDING = "pending", "Pending (credits on hold)"
        COMPLETED = "completed", "Completed"
        RELEASED = "released", "Released (hold returned)"

    # Every index here is written twice per feature call (the hold's insert and the settle's
    # update), so only those something reads: `transaction_recent` leads with the business, and
    # nothing matches feature or status with LIKE (Django's db_index adds a LIKE copy).
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="ai_transactions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    feature = models.CharField(max_length=50)
    credits_used = models.DecimalField(**MONEY, default=0)
    cost_to_us = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    tokens_used = models.PositiveIntegerField(default=0)
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    success = models.BooleanField(default=True)
    processing_time_ms = models.PositiveIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    status = models.CharField(
        max_length=10,
        choices=UsageStatus.choices,
        default=UsageStatus.COMPLETED,
    )
    credits_held = models.DecimalField(**MONEY, default=0)
    credits_uncharged = models.DecimalField(**MONEY, default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The balance a hold was taken from: settling or releasing goes back to that row, so held
    # credits never slip into a fresh balance started after the old one expired.
    balance_row = models.ForeignKey(
        BusinessAICredits, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the provider reported, so `cost_to_us` can be checked against its invoice.
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    provider_request_id = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "ai_transactions"
        ordering = ["-timestamp", "-id"]
        indexes = [
            # The keyset the transactions list pages by (pos.pagination).
            models.Index(fields=["business", "-timestamp", "-id"], name="transaction_keyset"),
            models.Index(fields=["feature"], name="transaction_feature"),
            models.Index(fields=["status"], name="transaction_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_used__gte=0, credits_held__gte=0, credits_uncharged__gte=0),
                name="transaction_credits_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "completed", "released"]),
                name="transaction_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.feature} {self.credits_used} ({self.business})"


class AIUsageAlert(models.Model):
    class Type(models.TextChoices):
        LOW_BALANCE = "low_balance", "Low balance"
        DEPLETED = "depleted", "Depleted"
        EXPIRED = "expired", "Expired"
        EXPIRING_SOON = "expiring_soon", "Expiring soon"
        DISPUTE_OPENED = "dispute_opened", "Dispute opened"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="ai_alerts")
    alert_type = models.CharField(max_length=20, choices=Type.choices)
    current_balance = models.DecimalField(**MONEY)
    threshold = models.DecimalField(**MONEY, null=True, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    acknowledged = models.BooleanField(default=False)

    class Meta:
        db_table = "ai_usage_alerts"
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["business", "-sent_at", "-id"], name="alert_business_recent")
        ]

    def __str__(self):
        return f"{self.alert_type} ({self.business})"


class CreditLedgerEntry(models.Model):
    """One row per balance change; a business's balance is the sum of its amounts."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        GRANT = "grant", "Grant"
        USAGE = "usage", "Usage"
        USAGE_RELEASE = "usage_release", "Usage release"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        DISPUTE_RETURN = "dispute_return", "Dispute return"
        EXPIRY = "expiry", "Expiry"
        ADJUSTMENT = "adjustment", "Adjustment"

    # `ledger_business_recent` leads with the business: no index of its own.
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="ai_ledger", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    purchase = models.ForeignKey(
        "ai_features.AICreditPurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
    )
    usage = models.ForeignKey(
        AITransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
    )
    # The refund or dispute a `refund`, `dispute` or `dispute_return` entry belongs to.
    clawback = models.ForeignKey(
        "CreditClawback", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "credit ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["business", "-id"], name="ledger_business_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0),
                name="ledger_balance_after_not_negative",
            ),
            # Credits come in through purchases, grants and released holds, and go out
            # through usage, refunds and expiry; only an adjustment may go either way.
            models.CheckConstraint(
                condition=Q(kind__in=CREDIT_KINDS, amount__gt=0)
                | Q(kind__in=DEBIT_KINDS, amount__lt=0)
                | Q(kind="adjustment"),
                name="ledger_sign_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount:+} -> {self.balance_after}"


class CreditClawback(models.Model):
    """What one refund or dispute of a purchase claims back (its `share` of the credits): taken
    from the balance at once, reserved out of pending holds (paid as they are released), or
    short because it was already spent (design section 7, rule 5)."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"

    purchase = models.ForeignKey(
        "ai_features.AICreditPurchase", on_delete=models.PROTECT, related_name="clawbacks"
    )
    # The active balance at the claim: its holds pay the reserve. None: there was none.
    balance_row = models.ForeignKey(
        BusinessAICredits, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    share = models.DecimalField(**MONEY)
    taken = models.DecimalField(**MONEY, default=0)
    reserved = models.DecimalField(**MONEY, default=0)
    shortfall = models.DecimalField(**MONEY, default=0)
    # Given back when a dispute closes in the shop's favour; the claim is then cancelled.
    returned = models.DecimalField(**MONEY, default=0)
    cancelled = models.BooleanField(default=False)
    # For the ledger check (`ledger.clawback_mismatches`): the credits the business had spent
    # or forfeited before the claim, what was on hold then, and the shortfall found at once.
    consumed_before = models.DecimalField(**MONEY, default=0)
    held_at_claim = models.DecimalField(**MONEY, default=0)
    shortfall_at_claim = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ai_credit_clawbacks"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["balance_row", "id"],
                condition=Q(reserved__gt=0),
                name="clawback_open_reserve",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    share__gte=0, taken__gte=0, reserved__gte=0, shortfall__gte=0, returned__gte=0
                ),
                name="clawback_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(share=F("taken") + F("reserved") + F("shortfall")),
                name="clawback_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(returned__lte=F("taken")), name="clawback_returns_what_it_took"
            ),
        ]

    def __str__(self):
        return f"{self.kind} of {self.purchase_id}: {self.share}"


class UsageDaily(models.Model):
    """The daily usage rollup (design section 8): one row per business, day (in TIME_ZONE, by
    the calls' `timestamp`), feature, user and model, for the days `UsageRollupState` says are
    closed. The usage endpoints read it for those days and the raw rows for the rest."""

    # `usage_daily_business_day` leads with the business: no index of its own.
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    feature = models.CharField(max_length=50)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model = models.CharField(max_length=100, blank=True)
    requests = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    credits_used = models.DecimalField(**MONEY, default=0)
    tokens_used = models.PositiveBigIntegerField(default=0)
    cost_to_us = models.DecimalField(max_digits=14, decimal_places=6, default=0)

    class Meta:
        db_table = "ai_usage_daily"
        ordering = ["business", "day", "feature"]
        indexes = [models.Index(fields=["business", "day"], name="usage_daily_business_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(successes__lte=F("requests"), credits_used__gte=0, cost_to_us__gte=0),
                name="usage_daily_counts_valid",
            )
        ]

    def __str__(self):
        return f"{self.business_id} {self.day} {self.feature}: {self.requests}"


class UsageRollupState(models.Model):
    """How far a business's usage is rolled up: every day up to `through` is in `UsageDaily`.
    A day is rolled up once it is over and no hold taken on it is still pending."""

    business = models.OneToOneField(Business, on_delete=models.CASCADE, related_name="+")
    through = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ai_usage_rollup_state"

    def __str__(self):
        return f"{self.business_id} through {self.through}"
