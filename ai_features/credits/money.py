"""The one reading of money from outside (`money_parse`: requests, forms, command lines), and
the one place where money crosses into a gateway's integer minor units: pesewas for GHS at
Paystack, cents for USD at Stripe (both currencies have two decimal places)."""

import re
from decimal import Decimal

from pos.jsonsafe import ExponentDecimal, JSONDecimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# A money column is Decimal(12, 2).
MONEY_DIGITS, MONEY_PLACES = 12, 2


def decimal_parse(value, *, places: int = MONEY_PLACES, max_digits: int = MONEY_DIGITS) -> Decimal:
    """The one reading of a decimal amount: an int, a JSON number (read as Decimal by
    pos.parsers), a string of ASCII digits with an optional point and at most `places` decimals
    (`10`, `10.5`, `"10.00"`), or a Decimal of code's own whose value has at most `places`
    decimals. Answered with exactly `places` places.

    Anything else raises ValueError and is never rounded: `1_000` (Python's Decimal reads
    underscores), Arabic-Indic or other non-ASCII digits, `1e1` and other exponents, more
    decimals written than `places` (`10.000` included), a sign or spaces in a string, NaN, a
    float, a bool, or more digits than `max_digits` holds. A sign is for the caller's range
    check: numbers may carry one, strings may not."""
    if isinstance(value, bool | float | ExponentDecimal):
        raise ValueError("not a plain number")
    if isinstance(value, str):
        if not _decimal_text(places).fullmatch(value):
            raise ValueError(f"not digits with at most {places} decimal places")
        number = Decimal(value)
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    else:
        raise ValueError("not a number")
    if not number.is_finite():
        raise ValueError("not a finite number")
    if number and number.adjusted() >= max_digits - places:
        raise ValueError(f"more than {max_digits - places} digits before the point")
    step = Decimal(1).scaleb(-places)
    # As written (a JSON number, a string): `10.000` has three decimals, even if one is a zero.
    # Code's own Decimal is taken by its value: 15.0000 from a product is exactly 15.00.
    written = isinstance(value, str | JSONDecimal)
    if number.as_tuple().exponent < -places and (written or number != number.quantize(step)):
        raise ValueError(f"more than {places} decimal places")
    return number.quantize(step)


def money_parse(value) -> Decimal:
    """Money or credits from outside: `decimal_parse` with two places (Decimal(12, 2))."""
    return decimal_parse(value, places=MONEY_PLACES, max_digits=MONEY_DIGITS)


_DECIMAL_TEXTS: dict[int, re.Pattern] = {}


def _decimal_text(places: int) -> re.Pattern:
    if places not in _DECIMAL_TEXTS:
        fraction = rf"(?:\.[0-9]{{1,{places}}})?" if places else ""
        _DECIMAL_TEXTS[places] = re.compile(rf"[0-9]+{fraction}", re.ASCII)
    return _DECIMAL_TEXTS[places]


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
