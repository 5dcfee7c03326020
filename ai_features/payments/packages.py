"""Packages, custom amounts and invoices (design sections 4 and 5)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from ai_features.credits.money import CENT, ZERO
from ai_features.models import CreditPackage
from ai_features.payments.errors import InvalidCustomAmount, NotSoldThroughStripe, UnknownPackage

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


def purchase_quote(
    *, package: str, custom_amount: Decimal | None = None, gateway: str = "paystack"
) -> Quote:
    """What a purchase of `package` (or a custom amount) costs and how many credits it gives.

    Through Paystack: the package's price in AI_CREDIT_CURRENCY plus the tax lines. Through
    Stripe: its Stripe price in STRIPE_CURRENCY, no tax lines, and packages only."""
    if package == CUSTOM:
        if gateway == "stripe":
            raise NotSoldThroughStripe("Stripe sells packages only, not a custom amount.")
        if custom_amount is None or not CUSTOM_MIN <= custom_amount <= CUSTOM_MAX:
            raise InvalidCustomAmount()
        base = custom_amount.quantize(CENT)
        return Quote(CUSTOM, base, ZERO, invoice_for(base_amount=base))
    found = CreditPackage.objects.filter(code=package, is_active=True).first()
    if found is None:
        raise UnknownPackage()
    if gateway == "stripe":
        if found.stripe_price is None:
            raise NotSoldThroughStripe()
        untaxed = Invoice(
            base_amount=found.stripe_price,
            taxes=[],
            total_tax=ZERO,
            total_amount=found.stripe_price,
            currency=settings.STRIPE_CURRENCY,
        )
        return Quote(found.code, found.credits, found.bonus_credits, untaxed)
    return Quote(
        found.code, found.credits, found.bonus_credits, invoice_for(base_amount=found.price)
    )


def package_prices(package: CreditPackage) -> list[dict]:
    """Every price the package is sold at, one per gateway (design section 13). A Stripe price
    is offered only while this server can take Stripe payments."""
    prices = [{"currency": package.currency, "amount": package.price, "gateway": "paystack"}]
    if package.stripe_price is not None and settings.STRIPE_SECRET_KEY:
        prices.append(
            {
                "currency": settings.STRIPE_CURRENCY,
                "amount": package.stripe_price,
                "gateway": "stripe",
            }
        )
    return prices


def packages_active() -> list[CreditPackage]:
    """The packages on sale, in display order, each with its prices per gateway."""
    found = list(CreditPackage.objects.filter(is_active=True).order_by("display_order", "id"))
    for package in found:
        package.gateway_prices = package_prices(package)
    return found
