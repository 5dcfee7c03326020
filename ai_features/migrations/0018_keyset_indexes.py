"""The indexes the lists' keysets need (pos.pagination), built CONCURRENTLY so that no
write to these tables waits on the build: transactions on (business, -timestamp, -id), which
replaces `transaction_recent` (business, -timestamp); purchases on (business, -purchased_at,
-id) for a shop's list and (-purchased_at, -id) for staff's; alerts on (business, -sent_at, -id).
The ledger already has `ledger_business_recent` (business, -id).

Not atomic (CONCURRENTLY cannot run in a transaction). A build that fails leaves an INVALID
index of its name: drop it, then migrate again."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ai_features", "0017_usage_daily_rollup"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="aitransaction",
            index=models.Index(fields=["business", "-timestamp", "-id"], name="transaction_keyset"),
        ),
        RemoveIndexConcurrently(model_name="aitransaction", name="transaction_recent"),
        AddIndexConcurrently(
            model_name="aicreditpurchase",
            index=models.Index(
                fields=["business", "-purchased_at", "-id"], name="purchase_business_recent"
            ),
        ),
        AddIndexConcurrently(
            model_name="aicreditpurchase",
            index=models.Index(fields=["-purchased_at", "-id"], name="purchase_recent"),
        ),
        AddIndexConcurrently(
            model_name="aiusagealert",
            index=models.Index(
                fields=["business", "-sent_at", "-id"], name="alert_business_recent"
            ),
        ),
    ]
