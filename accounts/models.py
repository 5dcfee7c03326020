from django.conf import settings
from django.db import models


class Business(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_businesses",
    )
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["id"]

    def __str__(self):
        return self.name


class BusinessMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="business_memberships",
    )
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "business"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "staff"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.business} ({self.role})"


class RateLimitWindow(models.Model):
    """One rate limit key's current window: when it began and how many requests it has counted.

    Counted by one atomic statement (`accounts.rate_limits.rate_limit_hit`), so two requests
    racing for the last slot cannot both get it."""

    key = models.CharField(max_length=255, primary_key=True)
    # Seconds since the epoch, as DRF's throttles time requests.
    window_start = models.FloatField(db_index=True)
    hits = models.PositiveIntegerField()

    class Meta:
        db_table = "api_rate_limit_windows"
        constraints = [
            models.CheckConstraint(condition=models.Q(hits__gte=1), name="rate_limit_hits_positive")
        ]

    def __str__(self):
        return f"{self.key}: {self.hits} since {self.window_start}"
