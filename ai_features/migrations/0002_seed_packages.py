from decimal import Decimal

from django.db import migrations

PACKAGES = [
    # code, name, description, price, credits, bonus, display order
    (
        "starter",
        "Starter",
        "30 AI credits to try the AI features.",
        "30.00",
        "30",
        "0",
        1,
    ),
    ("value", "Value", "80 AI credits plus 20 bonus credits.", "80.00", "80", "20", 2),
    (
        "premium",
        "Premium",
        "180 AI credits plus 70 bonus credits.",
        "180.00",
        "180",
        "70",
        3,
    ),
]


def seed(apps, schema_editor):
    CreditPackage = apps.get_model("ai_features", "CreditPackage")
    # Packages had a currency column until 0012 (it is AI_CREDIT_CURRENCY now); tests re-run
    # this seed against the current models.
    has_currency = any(f.name == "currency" for f in CreditPackage._meta.concrete_fields)
    for code, name, description, price, credits, bonus, order in PACKAGES:
        defaults = {
            "name": name,
            "description": description,
            "price": Decimal(price),
            "credits": Decimal(credits),
            "bonus_credits": Decimal(bonus),
            "is_active": True,
            "display_order": order,
        }
        if has_currency:
            defaults["currency"] = "GHS"
        CreditPackage.objects.update_or_create(code=code, defaults=defaults)


def unseed(apps, schema_editor):
    apps.get_model("ai_features", "CreditPackage").objects.filter(
        code__in=[row[0] for row in PACKAGES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("ai_features", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
