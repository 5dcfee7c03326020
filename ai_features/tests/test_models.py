"""The database itself refuses states that would break the money rules."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from ai_features.models import (
    AICreditPurchase,
    BusinessAICredits,
    CreditLedgerEntry,
    CreditPackage,
)

pytestmark = pytest.mark.django_db


def purchase(business, reference="AI-CREDIT-1-ABCDEF01", **overrides):
    fields = {
        "business": business,
        "package": "starter",
        "amount_paid": Decimal("30.00"),
        "total_tax": Decimal("5.25"),
        "total_amount": Decimal("35.25"),
        "credits_purchased": Decimal("30"),
        "payment_reference": reference,
        "payment_method": "mobile_money",
    }
    return AICreditPurchase.objects.create(**{**fields, **overrides})


def test_a_second_active_balance_is_refused(business):
    BusinessAICredits.objects.create(business=business, balance=5, is_active=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessAICredits.objects.create(business=business, balance=5, is_active=True)


def test_inactive_history_rows_may_sit_beside_the_active_one(business):
    BusinessAICredits.objects.create(business=business, balance=0, is_active=False)
    BusinessAICredits.objects.create(business=business, balance=0, is_active=False)

    BusinessAICredits.objects.create(business=business, balance=5, is_active=True)

    assert BusinessAICredits.objects.filter(business=business).count() == 3


def test_a_negative_balance_is_refused(business):
    row = BusinessAICredits.objects.create(business=business, balance=1, is_active=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessAICredits.objects.filter(pk=row.pk).update(balance=Decimal("-0.01"))


def test_a_duplicate_payment_reference_is_refused(business):
    purchase(business)

    with pytest.raises(IntegrityError), transaction.atomic():
        purchase(business)


def test_a_total_that_is_not_base_plus_tax_is_refused(business):
    with pytest.raises(IntegrityError), transaction.atomic():
        purchase(business, total_amount=Decimal("35.00"))


def test_a_completed_purchase_needs_its_completion_time(business):
    with pytest.raises(IntegrityError), transaction.atomic():
        purchase(business, payment_status="completed", completed_at=None)


@pytest.mark.parametrize(
    ("kind", "amount"),
    [("usage", "5.00"), ("purchase", "-5.00"), ("grant", "0.00"), ("expiry", "1.00")],
)
def test_a_ledger_amount_with_the_wrong_sign_for_its_kind_is_refused(business, kind, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditLedgerEntry.objects.create(
            business=business, kind=kind, amount=Decimal(amount), balance_after=Decimal("10.00")
        )


def test_packages_are_seeded_with_the_designed_prices_and_savings():
    packages = {p.code: p for p in CreditPackage.objects.all()}

    assert {
        code: (p.price, p.total_credits, p.savings_percent) for code, p in packages.items()
    } == {
        "starter": (Decimal("30.00"), Decimal("30.00"), 0),
        "value": (Decimal("80.00"), Decimal("100.00"), 25),
        "premium": (Decimal("180.00"), Decimal("250.00"), 39),
    }


@pytest.mark.parametrize("base", ["429.00", "10.01", "9999.99", "333.33"])
def test_a_correct_total_is_accepted_whatever_float_rounding_does(business, base):
    # Regression (found by the fuzz test): on SQLite 429 + 75.09 != 504.09 in floating point,
    # so the CHECK refused a correct purchase and the purchase endpoint answered 500.
    from ai_features.payments.packages import invoice_for

    invoice = invoice_for(base_amount=Decimal(base))

    created = purchase(
        business,
        reference=f"AI-CREDIT-{base}",
        amount_paid=invoice.base_amount,
        total_tax=invoice.total_tax,
        total_amount=invoice.total_amount,
    )

    assert created.pk is not None


def test_a_total_one_pesewa_off_is_still_refused(business):
    with pytest.raises(IntegrityError), transaction.atomic():
        purchase(business, total_amount=Decimal("35.26"))


# The seed's ops queries are not in ../shared; these are written from the fragments design
# section 6 quotes (`SELECT … FROM business_ai_credits ac JOIN accounts_business b …` and
# `… FROM ai_credit_purchases p …`), with the seed's column names.
SEED_BALANCES_QUERY = """
SELECT b.id, b.name, ac.balance, ac.expires_at, ac.is_active, ac.purchased_at
FROM business_ai_credits ac
JOIN accounts_business b ON b.id = ac.business_id
WHERE ac.is_active = TRUE
ORDER BY ac.balance DESC, b.id
"""
SEED_PURCHASES_QUERY = """
SELECT p.payment_reference, p.business_id, p.package, p.amount_paid, p.credits_purchased,
       p.bonus_credits, p.payment_status, p.payment_method, p.purchased_at, p.completed_at
FROM ai_credit_purchases p
WHERE p.payment_status = 'completed'
ORDER BY p.purchased_at DESC
"""


def _rows(sql):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.postgres
def test_the_seeds_ops_queries_run_as_written():
    from ai_features.credits.grants import credits_grant
    from testing.factories import BusinessFactory, PurchaseFactory

    rich, poor = BusinessFactory(name="Rich"), BusinessFactory(name="Poor")
    granted = credits_grant(business=rich, credits=80, bonus_credits=20, package="value")
    credits_grant(business=poor, credits=5, package="test")
    PurchaseFactory(business=poor)  # pending: not in the completed list

    balances = _rows(SEED_BALANCES_QUERY)
    purchases = _rows(SEED_PURCHASES_QUERY)

    assert [(row[1], row[2], row[4]) for row in balances] == [
        ("Rich", Decimal("100.00"), True),
        ("Poor", Decimal("5.00"), True),
    ]
    assert {row[0] for row in purchases} == set(
        AICreditPurchase.objects.filter(payment_status="completed").values_list(
            "payment_reference", flat=True
        )
    )
    newest = next(row for row in purchases if row[0] == granted.payment_reference)
    assert newest[2:8] == (
        "value",
        Decimal("0.00"),
        Decimal("80.00"),
        Decimal("20.00"),
        "completed",
        "admin_grant",
    )


def test_the_seeds_four_tables_have_the_seeds_names():
    from django.db import connection

    from ai_features.models import AITransaction, AIUsageAlert

    tables = set(connection.introspection.table_names())
    expected = {
        BusinessAICredits: "business_ai_credits",
        AICreditPurchase: "ai_credit_purchases",
        AITransaction: "ai_transactions",
        AIUsageAlert: "ai_usage_alerts",
    }
    for model, name in expected.items():
        assert model._meta.db_table == name
        assert name in tables
