"""The one place where money crosses into a gateway's integer minor units: pesewas for GHS at
Paystack, cents for USD at Stripe (both currencies have two decimal places)."""

from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_minor_units(amount: Decimal) -> int:
    """GHS 94.00 -> 9400 pesewas (USD 9.99 -> 999 cents). Refuses fractions of a minor unit
    instead of rounding them."""
    minor = Decimal(amount) * 100
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of pesewas")
    return int(minor)


# The most a money column (Decimal 12, 2) holds, in pesewas.
MAX_MINOR_UNITS = 10**12 - 1


def minor_units_parse(minor) -> int:
    """A gateway's amount in pesewas: 9400 or "9400" (Paystack sends both) -> 9400.

    Anything else raises ValueError: missing, NaN, a fraction, a sign, a bool, zero, or more
    than a money column holds. Such an amount pays for nothing and refunds nothing."""
    if isinstance(minor, int) and not isinstance(minor, bool):
        value = minor
    elif isinstance(minor, str) and (text := minor.strip()).isascii() and text.isdigit():
        value = int(text)
    else:
        raise ValueError("not a whole number of pesewas")
    if not 0 < value <= MAX_MINOR_UNITS:
        raise ValueError(f"not between 1 and {MAX_MINOR_UNITS} pesewas")
    return value


def from_minor_units(minor) -> Decimal:
    """9400 or "9400" -> Decimal("94.00"); refuses what `minor_units_parse` refuses."""
    return (Decimal(minor_units_parse(minor)) / 100).quantize(CENT)
