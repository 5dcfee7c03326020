"""The seed's ops queries read `business_ai_credits` and `ai_credit_purchases` (design section 6),
so the four tables the seed named get those names back. A rename: no row is copied or lost."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ai_features", "0009_balance_last_topped_up_at"),
    ]

    operations = [
        migrations.AlterModelTable(name="businessaicredits", table="business_ai_credits"),
        migrations.AlterModelTable(name="aicreditpurchase", table="ai_credit_purchases"),
        migrations.AlterModelTable(name="aitransaction", table="ai_transactions"),
        migrations.AlterModelTable(name="aiusagealert", table="ai_usage_alerts"),
    ]
