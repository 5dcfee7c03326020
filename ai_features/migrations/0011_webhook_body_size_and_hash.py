"""An unsigned webhook delivery keeps only its first 1 KB, so its size and sha256 are recorded
beside it (older deliveries have none: size null, hash blank)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ai_features", "0010_seed_table_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="paystackwebhookevent",
            name="body_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="paystackwebhookevent",
            name="body_size",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
