from decimal import Decimal

import pytest

from ai_features.credits.money import (
    MAX_MINOR_UNITS,
    decimal_parse,
    from_minor_units,
    minor_units_parse,
    money_parse,
    to_minor_units,
)
from pos.jsonsafe import json_loads, json_number


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


@pytest.mark.parametrize(
    "minor",
    [
        "9_400",
        "\u0669\u0664\u0660\u0660",  # ٩٤٠٠, Arabic-Indic
        "\uff19\uff14\uff10\uff10",  # ９４００, fullwidth
        "9400\u00b2",
        "9e3",
        "0x24b8",
        "9400.",
        " 9 400 ",
    ],
)
def test_pesewas_parse_refuses_digits_python_would_read(minor):
    """int() reads "9_400", "٩٤٠٠" and "９４００" as 9400; a gateway's amount is ASCII digits."""
    with pytest.raises(ValueError):
        minor_units_parse(minor)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10, "10.00"),
        ("10", "10.00"),
        ("10.5", "10.50"),
        ("10.00", "10.00"),
        ("0", "0.00"),
        ("9999999999.99", "9999999999.99"),
        (Decimal("2.50"), "2.50"),
        (Decimal("15.0000"), "15.00"),  # code's own Decimal: its value has two places
        (-5, "-5.00"),  # a number's sign is for the caller's range check
    ],
)
def test_money_parse_reads_money_exactly(value, expected):
    parsed = money_parse(value)

    assert parsed == Decimal(expected) and str(parsed) == expected
    assert type(parsed) is Decimal


@pytest.mark.parametrize(
    "value",
    [
        "1_000",
        "\u0661\u0660",  # ١٠
        "\u0967\u0966",  # १० (Devanagari)
        "1e1",
        "1E1",
        "10.000",
        "10.001",
        "-5",
        "+5",
        " 5",
        "5 ",
        "5.",
        ".5",
        "",
        "NaN",
        "Infinity",
        "1,000",
        "10000000000",  # 11 digits before the point: more than Decimal(12, 2) holds
        10**10,
        1.5,
        float("nan"),
        True,
        None,
        [10],
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("10.001"),
        json_loads("10.000", parse_float=json_number),  # as written: three decimals
        json_loads("1e1", parse_float=json_number),
        json_loads("1.0e1", parse_float=json_number),
        json_loads("10.0000000000000000000000001", parse_float=json_number),
    ],
)
def test_money_parse_refuses_anything_else_and_never_rounds(value):
    with pytest.raises(ValueError):
        money_parse(value)


def test_decimal_parse_takes_its_own_places():
    assert decimal_parse("1.125", places=3) == Decimal("1.125")
    assert decimal_parse(json_loads("1.5", parse_float=json_number), places=3) == Decimal("1.500")
    with pytest.raises(ValueError):
        decimal_parse("1.1255", places=3)
