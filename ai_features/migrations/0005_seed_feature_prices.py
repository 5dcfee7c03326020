from decimal import Decimal

from django.db import migrations

PRICES = [
    ("product_description", "2.50", "Product description generator"),
    ("customer_insight", "2.00", "Customer insight"),
]


def seed(apps, schema_editor):
    AIFeaturePrice = apps.get_model("ai_features", "AIFeaturePrice")
    for feature, credits, description in PRICES:
        AIFeaturePrice.objects.get_or_create(
            feature=feature, defaults={"credits": Decimal(credits), "description": description}
        )


def unseed(apps, schema_editor):
    apps.get_model("ai_features", "AIFeaturePrice").objects.filter(
        feature__in=[row[0] for row in PRICES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("ai_features", "0004_metering")]

    operations = [migrations.RunPython(seed, unseed)]
