"""Packages, custom amounts and invoices (design sections 4 and 5)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from ai_features.credits.money import CENT, ZERO
from ai_features.models import CreditPackage
from ai_features.payments.errors import InvalidCustomAmount, UnknownPackage
from ai_features.payments.gateways import GATEWAYS, gateway_for
from ai_features.payments.gateways.base import Price

CUSTOM = "custom"
CUSTOM_MIN = Decimal("10.00")
CUSTOM_MAX = Decimal("10000.00")


@dataclass(frozen=True)
class Invoice:
    base_amount: Decimal
    taxes: list[dict]
    total_tax: Decimal
    total_amount: Decimal
    currency: str


@dataclass(frozen=True)
class Quote:
    package: str
    credits: Decimal
    bonus_credits: Decimal
    invoice: Invoice

    @property
    def total_credits(self) -> Decimal:
        return self.credits + self.bonus_credits


def invoice_for(*, base_amount: Decimal) -> Invoice:
    """Each tax line rounded half up to the pesewa; the total is base plus their sum."""
    taxes = [
        {
            "name": name,
            "rate": rate,
            "amount": (base_amount * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP),
        }
        for name, rate in settings.AI_CREDIT_TAXES
    ]
    total_tax = sum((line["amount"] for line in taxes), ZERO)
    return Invoice(
        base_amount=base_amount,
        taxes=taxes,
        total_tax=total_tax,
        total_amount=base_amount + total_tax,
        currency=settings.AI_CREDIT_CURRENCY,
    )


def _invoice(price: Price) -> Invoice:
    """A gateway's price as an invoice: taxed in AI_CREDIT_CURRENCY, or as it is."""
    if price.taxed:
        return invoice_for(base_amount=price.amount)
    return Invoice(
        base_amount=price.amount,
        taxes=[],
        total_tax=ZERO,
        total_amount=price.amount,
        currency=price.currency,
    )


def purchase_quote(
    *, package: str, custom_amount: Decimal | None = None, gateway: str = "paystack"
) -> Quote:
    """What a purchase of `package` (or a custom amount) costs through `gateway` and how many
    credits it gives: the price is the gateway's (`package_price`); a custom amount, where the
    gateway sells one, is taxed in AI_CREDIT_CURRENCY."""
    through = gateway_for(gateway)
    if package == CUSTOM:
        through.custom_amount_check()
        if custom_amount is None or not CUSTOM_MIN <= custom_amount <= CUSTOM_MAX:
            raise InvalidCustomAmount()
        base = custom_amount.quantize(CENT)
        return Quote(CUSTOM, base, ZERO, invoice_for(base_amount=base))
    found = CreditPackage.objects.filter(code=package, is_active=True).first()
    if found is None:
        raise UnknownPackage()
    invoice = _invoice(through.package_price(package=found))
    return Quote(found.code, found.credits, found.bonus_credits, invoice)


def package_prices(package: CreditPackage) -> list[dict]:
    """Every price the package is listed at, one per gateway that lists one (design section
    13; each gateway's `package_listed_price`)."""
    prices = []
    for name in GATEWAYS:
        price = gateway_for(name).package_listed_price(package=package)
        if price is not None:
            prices.append({"currency": price.currency, "amount": price.amount, "gateway": name})
    return prices


def packages_active() -> list[CreditPackage]:
    """The packages on sale, in display order, each with its prices per gateway."""
    found = list(CreditPackage.objects.filter(is_active=True).order_by("display_order", "id"))
    for package in found:
        package.gateway_prices = package_prices(package)
    return found
