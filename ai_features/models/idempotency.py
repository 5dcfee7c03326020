"""The `Idempotency-Key`s clients send with a purchase or an AI feature call, one table for both
(issue 20, item 5): what each key's first request answered, replayed to repeats for 24 hours."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Business

# As long as Stripe keeps its keys; after that the key is free again and the row is purged.
KEY_LIFETIME = timedelta(hours=24)


def key_expiry():
    """When a key claimed now stops being replayed."""
    return timezone.now() + KEY_LIFETIME


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user sent, and what its request answered: for a purchase, the
    purchase (serialized afresh on a repeat); for a feature call, the stored JSON answer and the
    usage row it charged. No answer yet means the first request is still running."""

    class Scope(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        FEATURE = "feature", "AI feature call"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    business = models.ForeignKey(Business, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    # Purchase scope only.
    purchase = models.ForeignKey(
        "ai_features.AICreditPurchase", on_delete=models.CASCADE, null=True, blank=True
    )
    # Feature scope only: which feature, the answer replayed, and the usage row it charged.
    feature = models.CharField(max_length=50, blank=True)
    answer = models.JSONField(null=True, blank=True)
    usage = models.ForeignKey(
        "ai_features.AITransaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=key_expiry, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "user", "key"], name="idempotency_key_unique_per_scope_user"
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["purchase", "feature"]), name="idempotency_scope_valid"
            ),
            models.CheckConstraint(
                condition=~Q(scope="purchase")
                | Q(feature="", answer__isnull=True, usage__isnull=True),
                name="idempotency_purchase_fields",
            ),
            models.CheckConstraint(
                condition=~Q(scope="feature") | (Q(purchase__isnull=True) & ~Q(feature="")),
                name="idempotency_feature_fields",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="idempotency_expires_after_created",
            ),
        ]

    def __str__(self):
        return f"{self.scope} {self.key}"
