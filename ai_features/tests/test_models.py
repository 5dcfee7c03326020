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
    from ai_features.services.packages import invoice_for

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
