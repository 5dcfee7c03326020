"""`BusinessAICredits.purchased_at` means when the credits were first created (the seed's
meaning); until now every top-up overwrote it. The last top-up moves to `last_topped_up_at`.

Backfill: the old `purchased_at` was the last top-up, so it is copied over exactly. The first
top-up of an active balance is recovered from the ledger: its earliest purchase or grant after
the business's previous balance ended (the last forfeit, or the last expiry of an inactive row).
Inactive rows keep what they hold, since the ledger does not say which row an entry belongs to.

(Numbered 0009: 0008 is taken on another branch; the lead repoints the dependency at merge.)
"""

from django.db import migrations, models
from django.db.models import Max, Min

TOP_UPS = ("purchase", "grant")


def backfill(apps, schema_editor):
    balances = apps.get_model("ai_features", "BusinessAICredits")
    ledger = apps.get_model("ai_features", "CreditLedgerEntry")
    balances.objects.filter(last_topped_up_at__isnull=True).update(
        last_topped_up_at=models.F("purchased_at")
    )
    for row in balances.objects.filter(is_active=True).iterator():
        previous_end = max(
            filter(
                None,
                [
                    ledger.objects.filter(business_id=row.business_id, kind="expiry").aggregate(
                        at=Max("created_at")
                    )["at"],
                    balances.objects.filter(business_id=row.business_id, is_active=False)
                    .exclude(pk=row.pk)
                    .aggregate(at=Max("expires_at"))["at"],
                ],
            ),
            default=None,
        )
        top_ups = ledger.objects.filter(business_id=row.business_id, kind__in=TOP_UPS)
        if previous_end is not None:
            top_ups = top_ups.filter(created_at__gte=previous_end)
        first = top_ups.aggregate(at=Min("created_at"))["at"]
        if first is not None and (row.purchased_at is None or first < row.purchased_at):
            balances.objects.filter(pk=row.pk).update(purchased_at=first)


class Migration(migrations.Migration):
    dependencies = [
        ("ai_features", "0008_ai_feature_calls"),
    ]

    operations = [
        migrations.AddField(
            model_name="businessaicredits",
            name="last_topped_up_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
