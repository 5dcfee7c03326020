from decimal import Decimal

import pytest

from ai_features.services.money import from_pesewas, to_pesewas


@pytest.mark.parametrize(
    ("amount", "pesewas"),
    [("94.00", 9400), ("35.25", 3525), ("10000.00", 1000000), ("0.01", 1), ("11.75", 1175)],
)
def test_to_pesewas_is_exact(amount, pesewas):
    assert to_pesewas(Decimal(amount)) == pesewas


def test_to_pesewas_refuses_fractions_of_a_pesewa():
    with pytest.raises(ValueError):
        to_pesewas(Decimal("1.005"))


@pytest.mark.parametrize(("minor", "amount"), [(9400, "94.00"), ("5000", "50.00"), (" 1 ", "0.01")])
def test_from_pesewas_accepts_integers_and_strings(minor, amount):
    assert from_pesewas(minor) == Decimal(amount)
