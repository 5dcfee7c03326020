"""The AI features' tables: their prices, and the answers kept for a repeated Idempotency-Key."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Business
from ai_features.models.credits import MONEY


class AIFeaturePrice(models.Model):
    """What one use of an AI feature costs, editable in the admin without a deploy."""

    feature = models.SlugField(max_length=50, unique=True)
    credits = models.DecimalField(**MONEY)
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["feature"]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="feature_price_positive"),
        ]

    def __str__(self):
        return f"{self.feature}: {self.credits}"


class FeatureIdempotencyKey(models.Model):
    """An `Idempotency-Key` sent with an AI feature call, and the answer it got (replayed for
    24 hours, then deleted with its output by `expire_ai_credits`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    business = models.ForeignKey(Business, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    feature = models.CharField(max_length=50)
    fingerprint = models.CharField(max_length=64)
    answer = models.JSONField(null=True, blank=True)
    usage = models.ForeignKey(
        "ai_features.AITransaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="feature_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.feature} {self.key}"
