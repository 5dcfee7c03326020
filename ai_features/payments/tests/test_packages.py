from decimal import Decimal

import pytest

from ai_features.models import CreditPackage
from ai_features.payments.errors import UnknownPackage
from ai_features.payments.packages import invoice_for, purchase_quote
from pos.errors import DomainError

pytestmark = pytest.mark.django_db


def test_the_value_invoice_is_80_plus_14_tax_is_94():
    invoice = invoice_for(base_amount=Decimal("80.00"))

    assert invoice.base_amount == Decimal("80.00")
    assert [(t["name"], t["rate"], t["amount"]) for t in invoice.taxes] == [
        ("VAT", Decimal("12.5"), Decimal("10.00")),
        ("NHIL", Decimal("2.5"), Decimal("2.00")),
        ("GETFund", Decimal("2.5"), Decimal("2.00")),
    ]
    assert invoice.total_tax == Decimal("14.00")
    assert invoice.total_amount == Decimal("94.00")
    assert invoice.currency == "GHS"


def test_each_tax_line_is_rounded_half_up_before_summing():
    # 10.20 * 2.5% = 0.255: half up gives 0.26 (banker's rounding would give 0.26 too, so
    # also check 10.60 * 2.5% = 0.265 -> 0.27, where half-even would give 0.26).
    assert invoice_for(base_amount=Decimal("10.20")).taxes[1]["amount"] == Decimal("0.26")
    invoice = invoice_for(base_amount=Decimal("10.60"))

    assert [t["amount"] for t in invoice.taxes] == [
        Decimal("1.33"),  # 1.325 -> 1.33
        Decimal("0.27"),
        Decimal("0.27"),
    ]
    assert invoice.total_tax == Decimal("1.87")
    assert invoice.total_amount == Decimal("12.47")


def test_taxes_follow_the_setting(settings):
    settings.AI_CREDIT_TAXES = [("VAT", Decimal("15"))]

    invoice = invoice_for(base_amount=Decimal("30.00"))

    assert invoice.total_amount == Decimal("34.50")


@pytest.mark.parametrize(
    ("code", "credits", "bonus", "total"),
    [("starter", 30, 0, "35.25"), ("value", 80, 20, "94.00"), ("premium", 180, 70, "211.50")],
)
def test_package_quotes(code, credits, bonus, total):
    quote = purchase_quote(package=code)

    assert (quote.credits, quote.bonus_credits) == (credits, bonus)
    assert quote.invoice.total_amount == Decimal(total)


def test_a_custom_amount_buys_that_many_credits_without_bonus():
    quote = purchase_quote(package="custom", custom_amount=Decimal("250.50"))

    assert (quote.credits, quote.bonus_credits, quote.total_credits) == (
        Decimal("250.50"),
        0,
        Decimal("250.50"),
    )
    assert quote.invoice.base_amount == Decimal("250.50")


@pytest.mark.parametrize("amount", [None, Decimal("9.99"), Decimal("10000.01")])
def test_custom_amounts_out_of_range_are_refused(amount):
    with pytest.raises(DomainError) as caught:
        purchase_quote(package="custom", custom_amount=amount)

    assert caught.value.code == "invalid_custom_amount"


def test_an_inactive_or_unknown_package_is_refused():
    CreditPackage.objects.filter(code="starter").update(is_active=False)

    with pytest.raises(UnknownPackage):
        purchase_quote(package="starter")
    with pytest.raises(UnknownPackage):
        purchase_quote(package="gold")
