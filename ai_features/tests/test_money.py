from decimal import Decimal

import pytest

from ai_features.services.money import (
    MAX_MINOR_UNITS,
    from_minor_units,
    minor_units_parse,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "pesewas"),
    [("94.00", 9400), ("35.25", 3525), ("10000.00", 1000000), ("0.01", 1), ("11.75", 1175)],
)
def test_to_pesewas_is_exact(amount, pesewas):
    assert to_minor_units(Decimal(amount)) == pesewas


def test_to_pesewas_refuses_fractions_of_a_pesewa():
    with pytest.raises(ValueError):
        to_minor_units(Decimal("1.005"))


@pytest.mark.parametrize(("minor", "amount"), [(9400, "94.00"), ("5000", "50.00"), (" 1 ", "0.01")])
def test_from_pesewas_accepts_integers_and_strings(minor, amount):
    assert from_minor_units(minor) == Decimal(amount)


@pytest.mark.parametrize(
    ("minor", "pesewas"), [(1, 1), ("9400", 9400), (MAX_MINOR_UNITS, MAX_MINOR_UNITS)]
)
def test_pesewas_parse_takes_positive_integers_and_digit_strings(minor, pesewas):
    assert minor_units_parse(minor) == pesewas


@pytest.mark.parametrize(
    "minor",
    [
        None,
        True,
        0,
        -100,
        "-100",
        "+100",
        float("nan"),
        float("inf"),
        9400.0,
        "NaN",
        "94.00",
        "",
        "\u00b2",
        MAX_MINOR_UNITS + 1,
        "9" * 30,
        [9400],
    ],
)
def test_pesewas_parse_refuses_what_is_not_money(minor):
    with pytest.raises(ValueError):
        minor_units_parse(minor)
    with pytest.raises(ValueError):
        from_minor_units(minor)
