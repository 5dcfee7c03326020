"""The layout the design asks for (section 2): the credits core uses neither payments nor the
AI features; they use it."""

from pathlib import Path

import pytest

from testing.imports import imported_modules

APP = Path(__file__).resolve().parent.parent
CORE = sorted((APP / "credits").glob("*.py"))
OUTSIDE_THE_CORE = ("ai_features.payments", "ai_features.features")


def test_the_core_is_what_the_design_names():
    names = {path.stem for path in CORE}

    assert {"credits", "locks", "billing", "alerts", "expiry", "grants", "ledger"} <= names
    assert not names & {"purchases", "fulfilment", "refunds", "webhooks", "paystack"}


@pytest.mark.parametrize("path", CORE, ids=lambda path: path.name)
def test_the_credits_core_never_imports_payments_or_features(path):
    reaching_out = {
        module for module in imported_modules(path) if module.startswith(OUTSIDE_THE_CORE)
    }

    assert not reaching_out, f"{path.name} imports {sorted(reaching_out)}"


def test_the_check_itself_catches_an_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from ai_features.payments import purchases\n")

    assert "ai_features.payments.purchases" in imported_modules(sneaky)


def test_accounts_does_not_reach_into_ai_features():
    accounts = APP.parent / "accounts"
    for path in [*accounts.glob("*.py")]:
        assert not any(m.startswith("ai_features") for m in imported_modules(path)), path.name
