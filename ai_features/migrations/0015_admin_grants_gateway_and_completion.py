"""Admin grants as design section 6 has them: gateway `admin`, and completed when they were made.

`credits_grant` stored every grant with the default gateway (`paystack`), and took its
`completed_at` just before the insert set `purchased_at`, so it read a moment earlier. A grant
is made and completed at once, so both times become `purchased_at`. Purchases paid through a
gateway are left as they are."""

from django.db import migrations
from django.db.models import F


def grants_repaired(apps, schema_editor):
    Purchase = apps.get_model("ai_features", "AICreditPurchase")
    grants = Purchase.objects.filter(payment_method="admin_grant")
    grants.exclude(gateway="admin").update(gateway="admin")
    grants.filter(completed_at__lt=F("purchased_at")).update(completed_at=F("purchased_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("ai_features", "0014_clawbacks_and_disputes"),
    ]

    operations = [
        # Not undone: the rows before it were wrong, and nothing reads them as they were.
        migrations.RunPython(grants_repaired, migrations.RunPython.noop),
    ]
