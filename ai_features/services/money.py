"""The one place where money crosses into Paystack's integer minor units (pesewas)."""

from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_pesewas(amount: Decimal) -> int:
    """GHS 94.00 -> 9400. Refuses amounts with fractions of a pesewa instead of rounding them."""
    minor = Decimal(amount) * 100
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of pesewas")
    return int(minor)


def from_pesewas(minor) -> Decimal:
    """9400 or "9400" (Paystack sends both) -> Decimal("94.00")."""
    return (Decimal(int(str(minor).strip())) / 100).quantize(CENT)
