"""One idempotency mechanism (issue 20, item 5): `IdempotencyKey`, one table for purchases and
AI feature calls, replaces `PurchaseIdempotencyKey` and `FeatureIdempotencyKey`, whose tables
go (docs/decisions.md, "Idempotency keys").

The keys alive at the migration are carried over, so a client retrying across the deploy gets
its first answer again:
- a feature key younger than 24 hours keeps its `created_at` and expires 24 hours after it, as
  it always did; a claim with no answer older than 5 minutes (its request died) is not carried;
- a purchase key never expired before, so every one bound to a purchase is alive: it keeps its
  `created_at` and expires 24 hours after the migration, so a client retrying within a day still
  gets its purchase. A purchase claim bound to nothing (its request still running, or dead)
  has nothing to replay and no business recorded: it is not carried.

Reversed, the keys not yet expired are copied back to the two old tables (a purchase key then
never expires again, as before); expired ones are left behind, as they were free already."""

from datetime import timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import ai_features.models.idempotency

LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
BATCH = 1000


def carried_over(apps, schema_editor):
    now = django.utils.timezone.now()
    new = apps.get_model("ai_features", "IdempotencyKey")
    feature_keys = apps.get_model("ai_features", "FeatureIdempotencyKey")
    purchase_keys = apps.get_model("ai_features", "PurchaseIdempotencyKey")
    alive = feature_keys.objects.filter(created_at__gt=now - LIFETIME).exclude(
        answer__isnull=True, created_at__lte=now - ABANDONED_AFTER
    )
    new.objects.bulk_create(
        (
            new(
                scope="feature",
                user_id=old.user_id,
                business_id=old.business_id,
                key=old.key,
                fingerprint=old.fingerprint,
                feature=old.feature,
                answer=old.answer,
                usage_id=old.usage_id,
                created_at=old.created_at,
                expires_at=old.created_at + LIFETIME,
            )
            for old in alive.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )
    bound = purchase_keys.objects.filter(purchase__isnull=False).select_related("purchase")
    new.objects.bulk_create(
        (
            new(
                scope="purchase",
                user_id=old.user_id,
                business_id=old.purchase.business_id,
                key=old.key,
                fingerprint=old.fingerprint,
                purchase_id=old.purchase_id,
                created_at=old.created_at,
                expires_at=max(now, old.created_at) + LIFETIME,
            )
            for old in bound.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


def copied_back(apps, schema_editor):
    now = django.utils.timezone.now()
    new = apps.get_model("ai_features", "IdempotencyKey")
    feature_keys = apps.get_model("ai_features", "FeatureIdempotencyKey")
    purchase_keys = apps.get_model("ai_features", "PurchaseIdempotencyKey")
    for row in new.objects.filter(expires_at__gt=now).order_by("pk").iterator(chunk_size=BATCH):
        if row.scope == "feature":
            old = feature_keys.objects.create(
                user_id=row.user_id,
                business_id=row.business_id,
                key=row.key,
                feature=row.feature,
                fingerprint=row.fingerprint,
                answer=row.answer,
                usage_id=row.usage_id,
            )
            table = feature_keys
        else:
            old = purchase_keys.objects.create(
                user_id=row.user_id,
                key=row.key,
                fingerprint=row.fingerprint,
                purchase_id=row.purchase_id,
            )
            table = purchase_keys
        # The old tables' created_at is auto_now_add: set it back afterwards.
        table.objects.filter(pk=old.pk).update(created_at=row.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_rate_limit_windows"),
        ("ai_features", "0018_keyset_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "scope",
                    models.CharField(
                        choices=[("purchase", "Purchase"), ("feature", "AI feature call")],
                        max_length=10,
                    ),
                ),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=64)),
                ("feature", models.CharField(blank=True, max_length=50)),
                ("answer", models.JSONField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "expires_at",
                    models.DateTimeField(
                        db_index=True, default=ai_features.models.idempotency.key_expiry
                    ),
                ),
                (
                    "business",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, to="accounts.business"
                    ),
                ),
                (
                    "purchase",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="ai_features.aicreditpurchase",
                    ),
                ),
                (
                    "usage",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="ai_features.aitransaction",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scope", "user", "key"),
                        name="idempotency_key_unique_per_scope_user",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("scope__in", ["purchase", "feature"])),
                        name="idempotency_scope_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("scope", "purchase"), _negated=True),
                            models.Q(
                                ("answer__isnull", True), ("feature", ""), ("usage__isnull", True)
                            ),
                            _connector="OR",
                        ),
                        name="idempotency_purchase_fields",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("scope", "feature"), _negated=True),
                            models.Q(
                                ("purchase__isnull", True),
                                models.Q(("feature", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="idempotency_feature_fields",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="idempotency_expires_after_created",
                    ),
                ],
            },
        ),
        migrations.RunPython(carried_over, copied_back),
        migrations.DeleteModel(name="FeatureIdempotencyKey"),
        migrations.DeleteModel(name="PurchaseIdempotencyKey"),
    ]
