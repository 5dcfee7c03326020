"""Data migrations of ai_features, run against rows shaped as the code before them left them."""

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection

from ai_features.models import (
    AICreditPurchase,
    AIUsageAlert,
    BusinessAICredits,
    CreditLedgerEntry,
)
from testing.factories import BusinessFactory

pytestmark = pytest.mark.django_db
ACCRA = ZoneInfo("Africa/Accra")
T0 = datetime(2025, 1, 1, tzinfo=ACCRA)


def entry(business, kind, amount, at):
    made = CreditLedgerEntry.objects.create(
        business=business, kind=kind, amount=amount, balance_after=0
    )
    CreditLedgerEntry.objects.filter(pk=made.pk).update(created_at=at)


def old_style_row(business, *, last_top_up, active=True, expires_at=None):
    """A balance row as the old credits_add left it: purchased_at = the last top-up."""
    return BusinessAICredits.objects.create(
        business=business,
        balance=0,
        is_active=active,
        purchased_at=last_top_up,
        expires_at=expires_at or last_top_up + timedelta(days=180),
    )


def backfill():
    module = importlib.import_module("ai_features.migrations.0009_balance_last_topped_up_at")
    module.backfill(apps, None)


def test_backfill_keeps_the_last_top_up_and_recovers_the_first_from_the_ledger():
    shop = BusinessFactory()
    entry(shop, "grant", 50, T0)
    entry(shop, "usage", -5, T0 + timedelta(days=3))
    entry(shop, "purchase", 100, T0 + timedelta(days=10))
    row = old_style_row(shop, last_top_up=T0 + timedelta(days=10))

    backfill()

    row.refresh_from_db()
    assert row.last_topped_up_at == T0 + timedelta(days=10)
    assert row.purchased_at == T0


def test_backfill_counts_only_top_ups_of_the_current_balance():
    shop = BusinessFactory()
    entry(shop, "grant", 50, T0)
    old_style_row(shop, last_top_up=T0, active=False, expires_at=T0 + timedelta(days=180))
    entry(shop, "expiry", -50, T0 + timedelta(days=200))
    entry(shop, "purchase", 30, T0 + timedelta(days=200))
    entry(shop, "purchase", 30, T0 + timedelta(days=250))
    row = old_style_row(shop, last_top_up=T0 + timedelta(days=250))

    backfill()

    row.refresh_from_db()
    assert row.purchased_at == T0 + timedelta(days=200)
    assert row.last_topped_up_at == T0 + timedelta(days=250)


def test_backfill_leaves_inactive_rows_and_rows_without_top_ups_as_they_were():
    shop, bare = BusinessFactory(), BusinessFactory()
    old = old_style_row(shop, last_top_up=T0, active=False)
    lonely = old_style_row(bare, last_top_up=T0 + timedelta(days=1))

    backfill()

    old.refresh_from_db()
    lonely.refresh_from_db()
    assert (old.purchased_at, old.last_topped_up_at) == (T0, T0)
    assert lonely.purchased_at == lonely.last_topped_up_at == T0 + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_renaming_to_the_seeds_table_names_keeps_every_row():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("ai_features", "0009_balance_last_topped_up_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        shop = BusinessFactory()
        old.get_model("ai_features", "BusinessAICredits").objects.create(
            business_id=shop.pk, balance=42, is_active=True
        )
        old.get_model("ai_features", "AIUsageAlert").objects.create(
            business_id=shop.pk, alert_type="low_balance", current_balance=1
        )
        old_tables = set(connection.introspection.table_names())
        assert {"ai_features_businessaicredits", "ai_features_aiusagealert"} <= old_tables
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    tables = set(connection.introspection.table_names())
    assert "ai_features_businessaicredits" not in tables
    assert BusinessAICredits.objects.get(business=shop).balance == 42
    assert AIUsageAlert.objects.get(business=shop).alert_type == "low_balance"


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name for name, index in found.items() if index["index"] and not index["primary_key"]}


SLIM_USAGE = {
    "transaction_keyset",  # since 0018; it replaced transaction_recent (business, -timestamp)
    "transaction_feature",
    "transaction_status",
    "ai_features_aitransaction_timestamp_6409d714",
    "ai_features_aitransaction_user_id_a8ddcc09",
    "ai_features_aitransaction_balance_row_id_de5edffc",
}
UNREAD = {
    "ai_features_aitransaction_business_id_abf0686a",
    "ai_features_aitransaction_feature_c94c7bd2_like",
    "ai_features_aitransaction_status_bc8dd85c_like",
}


@pytest.mark.postgres
def test_the_usage_and_ledger_tables_keep_only_indexes_something_reads():
    """Each is written on every feature call: no LIKE copies, no business_id index that the
    (business, …) index already leads with. Undone and redone, the same set."""
    module = importlib.import_module("ai_features.migrations.0013_fewer_usage_and_ledger_indexes")
    ledger = CreditLedgerEntry._meta.db_table
    slim_ledger = indexes(ledger)
    assert indexes("ai_transactions") == SLIM_USAGE
    assert "ledger_business_recent" in slim_ledger
    assert "ai_features_creditledgerentry_business_id_94bde5af" not in slim_ledger

    with connection.schema_editor() as editor:  # DDL rolls back with the test's transaction
        module.restored(apps, editor)
    assert indexes("ai_transactions") == (
        SLIM_USAGE - {"transaction_feature", "transaction_status"}
        | UNREAD
        | {
            "ai_features_aitransaction_feature_c94c7bd2",
            "ai_features_aitransaction_status_bc8dd85c",
        }
    )
    assert indexes(ledger) == slim_ledger | {"ai_features_creditledgerentry_business_id_94bde5af"}

    with connection.schema_editor() as editor:
        module.slimmed(apps, editor)
    assert indexes("ai_transactions") == SLIM_USAGE
    assert indexes(ledger) == slim_ledger


def purchase_as_stored(business, *, method, gateway, completed_at, status="completed"):
    """A purchase row with the gateway and completion time given, as older code stored it."""
    made = AICreditPurchase.objects.create_with_reference(
        business=business,
        package="test",
        amount_paid=0,
        total_amount=0,
        credits_purchased=50,
        payment_method=method,
        payment_status=status,
        completed_at=T0,
    )
    AICreditPurchase.objects.filter(pk=made.pk).update(
        gateway=gateway, purchased_at=T0, completed_at=completed_at
    )
    return made


def test_grants_get_the_admin_gateway_and_complete_when_they_were_made():
    """Issue 19 item 8: grants were stored as `paystack`, completed a moment before purchased."""
    module = importlib.import_module(
        "ai_features.migrations.0015_admin_grants_gateway_and_completion"
    )
    shop = BusinessFactory()
    early = timedelta(microseconds=-350)
    grant = purchase_as_stored(
        shop, method="admin_grant", gateway="paystack", completed_at=T0 + early
    )
    later = purchase_as_stored(
        shop, method="admin_grant", gateway="admin", completed_at=T0 + timedelta(hours=1)
    )
    paid = purchase_as_stored(
        shop, method="mobile_money", gateway="paystack", completed_at=T0 + early
    )

    module.grants_repaired(apps, None)

    for row in (grant, later, paid):
        row.refresh_from_db()
    assert (grant.gateway, grant.completed_at) == ("admin", T0)
    assert (later.gateway, later.completed_at) == ("admin", T0 + timedelta(hours=1))
    assert (paid.gateway, paid.completed_at) == ("paystack", T0 + early)


@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_table_carries_over_the_keys_alive_at_the_migration(user, business):
    """Issue 20, item 5: migration 0019 merges the purchase and feature keys into one table.
    Feature keys keep their 24 hours; purchase keys, which never expired, get 24 hours from the
    migration; a feature claim abandoned unanswered, or a purchase claim bound to no purchase, is
    left behind. Reversed, it copies back what has not expired."""
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from ai_features.models import AITransaction, IdempotencyKey

    before = [("ai_features", "0018_keyset_indexes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        feature_keys = old.get_model("ai_features", "FeatureIdempotencyKey")
        purchase_keys = old.get_model("ai_features", "PurchaseIdempotencyKey")
        now = timezone.now()
        usage = AITransaction.objects.create(business=business, feature="customer_insight")
        # Written out, not PurchaseFactory: the package rows it would price from are not there
        # at this point of the migrations.
        bought = AICreditPurchase.objects.create_with_reference(
            business=business,
            package="value",
            amount_paid=94,
            total_amount=94,
            credits_purchased=100,
            payment_method="mobile_money",
            authorization_url="https://checkout.paystack.com/abc",
        )

        def stored(table, key, age, **fields):
            row = table.objects.create(user_id=user.pk, key=key, fingerprint="f" * 64, **fields)
            table.objects.filter(pk=row.pk).update(created_at=now - age)

        feature = {"business_id": business.pk, "feature": "customer_insight"}
        answer = {"result": {"summary": "Buys rice."}}
        done = {"answer": answer, "usage_id": usage.pk, **feature}
        stored(feature_keys, "answered", timedelta(hours=23), **done)
        stored(feature_keys, "too-old", timedelta(hours=25), answer=answer, **feature)
        stored(feature_keys, "abandoned", timedelta(minutes=6), **feature)
        stored(feature_keys, "running", timedelta(minutes=1), **feature)
        stored(purchase_keys, "a-month-ago", timedelta(days=30), purchase_id=bought.pk)
        stored(purchase_keys, "unbound", timedelta(minutes=1))
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = timezone.now()

    tables = set(connection.introspection.table_names())
    assert not {"ai_features_featureidempotencykey", "ai_features_purchaseidempotencykey"} & tables
    carried = {row.key: row for row in IdempotencyKey.objects.all()}
    assert set(carried) == {"answered", "running", "a-month-ago"}
    answered, running, purchase = carried["answered"], carried["running"], carried["a-month-ago"]
    assert (answered.scope, answered.answer, answered.usage_id) == ("feature", answer, usage.pk)
    assert (answered.business_id, answered.feature) == (business.pk, "customer_insight")
    assert answered.created_at == now - timedelta(hours=23)
    assert answered.expires_at == answered.created_at + timedelta(hours=24)
    assert (running.scope, running.answer) == ("feature", None)
    assert (purchase.scope, purchase.purchase_id) == ("purchase", bought.pk)
    assert (purchase.business_id, purchase.fingerprint) == (business.pk, "f" * 64)
    assert purchase.created_at == now - timedelta(days=30)
    assert now + timedelta(hours=24) < purchase.expires_at <= migrated + timedelta(hours=24)

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        back = {
            row.key: row
            for row in old.get_model("ai_features", "FeatureIdempotencyKey").objects.all()
        }
        assert set(back) == {"answered", "running"}
        assert back["answered"].created_at == now - timedelta(hours=23)
        assert (back["answered"].answer, back["answered"].usage_id) == (answer, usage.pk)
        (purchase_back,) = old.get_model("ai_features", "PurchaseIdempotencyKey").objects.all()
        assert (purchase_back.key, purchase_back.purchase_id) == ("a-month-ago", bought.pk)
        assert purchase_back.created_at == now - timedelta(days=30)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert IdempotencyKey.objects.count() == 3  # and forward again, the same keys
