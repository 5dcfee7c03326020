"""`setup_stripe_credit_products` against the sandbox's Stripe stand-in, through the real SDK."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ai_features.management.commands import setup_stripe_credit_products as command
from ai_features.management.tests.helpers import command_output
from ai_features.models import CreditPackage
from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct
from sandbox.stripe.tests.helpers import (
    URLS,
    active_prices,
    counts,
    package,
    priced_stand_in,
)

pytestmark = [pytest.mark.urls(URLS), pytest.mark.django_db]


@pytest.fixture
def stripe(settings, monkeypatch):
    return priced_stand_in(settings, monkeypatch, command)


def run(*args) -> str:
    return command_output("setup_stripe_credit_products", *args)


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by package code, each split into its columns."""
    lines = out.splitlines()
    found = {}
    for line in lines[2:]:
        cells = [cell for cell in line.split("  ") if cell.strip()]
        if cells and CreditPackage.objects.filter(code=cells[0].strip()).exists():
            found[cells[0].strip()] = [cell.strip() for cell in cells]
    return found


def test_first_run_creates_a_product_and_a_one_time_price_per_package_and_stores_the_ids(stripe):
    out = run()

    expected = {"starter": (250, "30"), "value": (650, "100"), "premium": (1450, "250")}
    for code, (cents, credits) in expected.items():
        saved = package(code)
        product = StripeSandboxProduct.objects.get(stripe_id=saved.stripe_product_id)
        price = StripeSandboxPrice.objects.get(stripe_id=saved.stripe_price_id)
        assert (product.name, product.description) == (saved.name, saved.description)
        assert product.metadata == {"package": code, "credits": credits}
        assert (price.product, price.unit_amount, price.currency) == (product, cents, "usd")
        assert price.lookup_key == f"ai_credits_{code}" and price.active
        assert price.metadata == {"package": code, "credits": credits}
    assert counts() == (3, 3)
    table = rows(out)
    assert table["value"] == [
        "value",
        "6.50 USD",
        package("value").stripe_product_id,
        package("value").stripe_price_id,
        "create product, create price",
    ]
    assert out.splitlines()[0].split() == [
        "Package",
        "Price",
        "Product",
        "Stripe",
        "price",
        "Action",
    ]
    assert "Synced 3 packages: 3 changed." in out


def test_a_second_run_writes_nothing_at_stripe(stripe):
    run()
    ids = list(CreditPackage.objects.values_list("stripe_product_id", "stripe_price_id"))
    stripe.sent.clear()

    out = run()

    assert stripe.writes() == []
    assert stripe.sent, "it still read the catalogue to compare"
    assert counts() == (3, 3)
    assert list(CreditPackage.objects.values_list("stripe_product_id", "stripe_price_id")) == ids
    assert {row[-1] for row in rows(out).values()} == {"unchanged"}
    assert "Synced 3 packages: 0 changed." in out


def test_a_new_amount_makes_a_new_price_moves_the_key_and_archives_the_old(stripe):
    run()
    old = package("value").stripe_price_id
    product = package("value").stripe_product_id
    stripe.sent.clear()

    out = run("--price", "value=7.00")

    new = package("value")
    assert new.stripe_price == Decimal("7.00")
    assert new.stripe_price_id != old and new.stripe_product_id == product
    fresh = StripeSandboxPrice.objects.get(stripe_id=new.stripe_price_id)
    stale = StripeSandboxPrice.objects.get(stripe_id=old)
    assert (fresh.unit_amount, fresh.lookup_key, fresh.active) == (700, "ai_credits_value", True)
    assert (stale.unit_amount, stale.lookup_key, stale.active) == (650, None, False)
    assert active_prices("value") == [fresh]
    assert stripe.writes() == ["POST /v1/prices", f"POST /v1/prices/{old}"]
    assert rows(out)["value"][-1] == f"replace price, archive {old}"
    assert rows(out)["starter"][-1] == "unchanged"


def test_a_new_currency_replaces_every_price(stripe, settings):
    run()
    settings.STRIPE_CURRENCY = "EUR"

    out = run()

    for code in ("starter", "value", "premium"):
        (price,) = active_prices(code)
        assert price.currency == "eur" and price.stripe_id == package(code).stripe_price_id
        assert rows(out)[code][1].endswith("EUR")
        assert rows(out)[code][-1].startswith("replace price, archive price_")
    assert counts() == (3, 6)


def test_price_sets_a_package_price_first_then_syncs_it(stripe):
    CreditPackage.objects.filter(code="premium").update(stripe_price=None)
    run()
    assert package("premium").stripe_price_id == ""

    out = run("--price", "premium=15", "--price", "starter=3.25")

    assert package("premium").stripe_price == Decimal("15.00")
    assert package("starter").stripe_price == Decimal("3.25")
    assert (
        StripeSandboxPrice.objects.get(stripe_id=package("premium").stripe_price_id).unit_amount
        == 1500
    )
    assert rows(out)["premium"][-1] == "create product, create price"
    assert rows(out)["starter"][-1].startswith("replace price, archive ")
    assert rows(out)["value"][-1] == "unchanged"


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("premium=0", "from 0.01"),
        ("premium=0.00", "from 0.01"),
        ("premium=1000000", "to 999999.99"),
        ("premium=-1", "CODE=AMOUNT"),
        ("premium=1.234", "at most 2 decimals"),
        ("premium=1,50", "CODE=AMOUNT"),
        ("premium=abc", "CODE=AMOUNT"),
        ("premium=1_000", "CODE=AMOUNT"),  # Decimal reads underscores
        ("premium=\u0661\u0660", "CODE=AMOUNT"),  # and Arabic-Indic digits
        ("premium=1e1", "CODE=AMOUNT"),
        ("premium", "CODE=AMOUNT"),
        ("=5", "CODE=AMOUNT"),
        ("gold=5", "No active package with code 'gold'"),
        ("custom=5", "No active package with code 'custom'"),
    ],
)
def test_a_bad_price_is_refused_and_nothing_changes(stripe, given, says):
    with pytest.raises(CommandError, match="Nothing was changed") as refused:
        run("--price", "starter=9.99", "--price", given)

    assert says in str(refused.value)
    assert package("starter").stripe_price == Decimal("2.50")
    assert stripe.sent == [] and counts() == (0, 0)


def test_a_price_for_an_inactive_package_or_given_twice_is_refused(stripe):
    CreditPackage.objects.filter(code="value").update(is_active=False)

    with pytest.raises(CommandError, match="No active package with code 'value'"):
        run("--price", "value=5")
    with pytest.raises(CommandError, match="gives package 'starter' twice"):
        run("--price", "starter=5", "--price", "starter=6")

    assert package("value").stripe_price == Decimal("6.50")
    assert package("starter").stripe_price == Decimal("2.50")


def test_dry_run_prints_the_plan_and_changes_nothing(stripe):
    out = run("--dry-run", "--price", "value=8")

    assert stripe.writes() == [] and counts() == (0, 0)
    assert package("value").stripe_price == Decimal("6.50")
    assert package("value").stripe_product_id == "" and package("value").stripe_price_id == ""
    assert rows(out)["value"] == [
        "value",
        "8.00 USD",
        "(new)",
        "(new)",
        "create product, create price",
    ]
    assert "Dry run: 3 of 3 would change; nothing changed." in out


def test_dry_run_plans_a_package_that_price_would_put_on_sale(stripe):
    CreditPackage.objects.filter(code="premium").update(stripe_price=None)

    out = run("--dry-run", "--price", "premium=15")

    assert rows(out)["premium"][1:] == [
        "15.00 USD",
        "(new)",
        "(new)",
        "create product, create price",
    ]
    assert "Not sold through Stripe" not in out
    assert package("premium").stripe_price is None


def test_dry_run_after_a_sync_shows_a_replacement_without_making_it(stripe):
    run()
    old = package("premium").stripe_price_id
    stripe.sent.clear()

    out = run("--dry-run", "--price", "premium=20")

    assert stripe.writes() == []
    assert package("premium").stripe_price == Decimal("14.50")
    assert StripeSandboxPrice.objects.get(stripe_id=old).active
    assert rows(out)["premium"][3:] == ["(new)", f"replace price, archive {old}"]
    assert rows(out)["value"][-1] == "unchanged"
    assert "Dry run: 1 of 3 would change" in out


def test_without_a_secret_key_it_refuses_and_sets_no_price(stripe, settings):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY is not set"):
        run("--price", "starter=9")

    assert package("starter").stripe_price == Decimal("2.50")
    assert stripe.sent == []


def test_a_gateway_error_keeps_what_was_synced_and_a_rerun_finishes_without_duplicates(stripe):
    failures = iter([True])  # the value package's price, once
    stripe.fail_when = lambda method, path: (
        method.lower() == "post"
        and path == "/v1/prices"
        and package("starter").stripe_price_id != ""
        and next(failures, False)
    )
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("setup_stripe_credit_products", stdout=out)

    message = str(failed.value)
    assert "Stripe failed while syncing package 'value'" in message
    assert "returned an error" in message and "Run the command again" in message
    assert package("starter").stripe_price_id and package("starter").stripe_product_id
    assert package("value").stripe_product_id and package("value").stripe_price_id == ""
    assert package("premium").stripe_product_id == ""
    assert list(rows(out.getvalue())) == ["starter"]

    again = run()

    assert counts() == (3, 3)  # the value product was found again, not made twice
    assert rows(again)["starter"][-1] == "unchanged"
    assert rows(again)["value"][-1] == "create price"
    assert rows(again)["premium"][-1] == "create product, create price"


def test_a_new_price_is_saved_only_with_the_stripe_price_that_charges_it(stripe):
    run()
    old = package("value").stripe_price_id
    stripe.fail_when = lambda method, path: method.lower() == "post" and path == "/v1/prices"

    with pytest.raises(CommandError, match="with the same --price"):
        run("--price", "value=7")

    # Checkout sells the stored price id: the package still says what that price charges.
    assert (package("value").stripe_price, package("value").stripe_price_id) == (
        Decimal("6.50"),
        old,
    )
    assert StripeSandboxPrice.objects.get(stripe_id=old).active
    stripe.fail_when = lambda method, path: False

    run("--price", "value=7")

    assert package("value").stripe_price == Decimal("7.00")
    assert (
        StripeSandboxPrice.objects.get(stripe_id=package("value").stripe_price_id).unit_amount
        == 700
    )


def test_refused_credentials_are_a_clear_error_and_nothing_is_saved(stripe, settings):
    settings.STRIPE_SECRET_KEY = "rk_test_restricted_key_the_standin_refuses"

    with pytest.raises(CommandError, match="refused this server's credentials"):
        run()

    assert not CreditPackage.objects.exclude(stripe_product_id="").exists()


def test_packages_without_a_stripe_price_or_inactive_are_left_alone(stripe):
    CreditPackage.objects.filter(code="starter").update(stripe_price=None)
    CreditPackage.objects.filter(code="premium").update(is_active=False)

    out = run()

    assert list(rows(out)) == ["value"]
    assert "Not sold through Stripe (no Stripe price): starter." in out
    assert package("starter").stripe_product_id == package("premium").stripe_product_id == ""
    assert counts() == (1, 1)
