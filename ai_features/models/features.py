"""The AI features' tables: their prices (the answers kept for a repeated Idempotency-Key are in
`idempotency.py`)."""

from django.db import models
from django.db.models import Q

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
