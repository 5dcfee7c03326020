from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ai_features.models import (
    AICreditPurchase,
    AITransaction,
    AIUsageAlert,
    BusinessAICredits,
    CreditLedgerEntry,
    CreditPackage,
)
from ai_features.services.grants import credits_grant
from conftest import ledger_sum, make_business, stored_balance

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("setup_ai_credits", *args, stdout=out)
    return out.getvalue()


def test_without_flags_it_prints_the_packages_table():
    out = run()

    lines = out.splitlines()
    assert lines[0].split() == [
        "code",
        "name",
        "price",
        "credits",
        "bonus",
        "total",
        "savings",
        "active",
    ]
    assert lines[3].split() == [
        "value",
        "Value",
        "80.00",
        "GHS",
        "80.00",
        "20.00",
        "100.00",
        "25%",
        "yes",
    ]
    assert "premium" in lines[4] and "39%" in lines[4]


def test_list_businesses_shows_balance_expiry_and_active_flag():
    rich = make_business(name="Rich Shop")
    make_business(name="New Shop")
    credits_grant(business=rich, credits=12, package="test")

    lines = run("--list-businesses").splitlines()

    assert lines[0].split() == ["id", "business", "owner", "balance", "expires", "active"]
    rich_line = next(line for line in lines if "Rich Shop" in line)
    new_line = next(line for line in lines if "New Shop" in line)
    assert "12.00" in rich_line and rich_line.rstrip().endswith("yes")
    assert "0.00" in new_line and " - " in new_line and new_line.rstrip().endswith("no")


@pytest.mark.parametrize(
    ("flag", "package", "total"),
    [
        ("--grant-test", "test", Decimal("50")),
        ("--grant-starter", "starter", Decimal("30")),
        ("--grant-value", "value", Decimal("100")),
        ("--grant-premium", "premium", Decimal("250")),
    ],
)
def test_each_grant_flag_grants_to_every_business(flag, package, total):
    shops = [make_business(), make_business()]

    out = run(flag)

    for shop in shops:
        assert stored_balance(shop) == total == ledger_sum(shop)
        purchase = AICreditPurchase.objects.get(business=shop)
        assert (purchase.package, purchase.payment_method, purchase.payment_status) == (
            package,
            "admin_grant",
            "completed",
        )
        assert purchase.amount_paid == 0 and purchase.total_credits == total
        assert purchase.payment_reference in out


def test_grant_value_for_one_business_raises_it_by_100_with_ledger_and_purchase():
    target, bystander = make_business(), make_business()
    credits_grant(business=target, credits=50, package="test")

    run("--grant-value", "--business-id", str(target.id))

    assert stored_balance(target) == Decimal("150.00") == ledger_sum(target)
    entry = CreditLedgerEntry.objects.filter(business=target).latest("id")
    assert (entry.kind, entry.amount, entry.purchase.package) == ("grant", 100, "value")
    assert entry.purchase.payment_method == "admin_grant"
    assert stored_balance(bystander) == 0 and not CreditLedgerEntry.objects.filter(
        business=bystander
    )


def test_an_unknown_business_id_is_a_command_error_and_grants_nothing():
    make_business()

    with pytest.raises(CommandError, match="No business with id 999999"):
        run("--grant-test", "--business-id", "999999")

    assert not CreditLedgerEntry.objects.exists()


def test_business_id_alone_is_a_command_error():
    shop = make_business()

    with pytest.raises(CommandError, match="goes with"):
        run("--business-id", str(shop.id))


def test_two_grant_flags_at_once_are_refused():
    with pytest.raises(CommandError):
        run("--grant-test", "--grant-value")


def test_granting_an_inactive_package_still_uses_its_credits():
    CreditPackage.objects.filter(code="starter").update(is_active=False)
    shop = make_business()

    run("--grant-starter")

    assert stored_balance(shop) == Decimal("30.00")


def _seed_everything():
    shop = make_business()
    credits_grant(business=shop, credits=10, package="test")
    AITransaction.objects.create(business=shop, feature="product_description", credits_used=1)
    AIUsageAlert.objects.create(business=shop, alert_type="low_balance", current_balance=1)
    return shop


def test_reset_with_yes_deletes_all_ai_credit_data_but_keeps_packages_and_businesses():
    shop = _seed_everything()

    out = run("--reset", "--yes")

    for model in (
        CreditLedgerEntry,
        AIUsageAlert,
        AITransaction,
        AICreditPurchase,
        BusinessAICredits,
    ):
        assert not model.objects.exists(), model
    assert CreditPackage.objects.count() == 3
    shop.refresh_from_db()
    assert "Deleted" in out


def test_reset_asks_and_proceeds_on_the_typed_word(monkeypatch):
    _seed_everything()
    monkeypatch.setattr("builtins.input", lambda: "reset")

    out = run("--reset")

    assert "Type 'reset' to confirm" in out
    assert not CreditLedgerEntry.objects.exists()


@pytest.mark.parametrize("answer", ["", "yes", "RESET "])
def test_reset_without_the_typed_word_deletes_nothing(monkeypatch, answer):
    _seed_everything()
    monkeypatch.setattr("builtins.input", lambda: answer)

    with pytest.raises(CommandError, match="aborted"):
        run("--reset")

    assert CreditLedgerEntry.objects.count() == 1
    assert BusinessAICredits.objects.count() == 1


def test_reset_without_a_terminal_deletes_nothing(monkeypatch):
    _seed_everything()

    def no_stdin():
        raise EOFError

    monkeypatch.setattr("builtins.input", no_stdin)

    with pytest.raises(CommandError, match="aborted"):
        run("--reset")

    assert AICreditPurchase.objects.count() == 1
