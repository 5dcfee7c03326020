"""The catalogue sync's service functions: recovering lost ids, following package edits, and
keeping one active price per product, against the sandbox's Stripe stand-in."""

from decimal import Decimal

import pytest

from ai_features.models import CreditPackage
from ai_features.payments.gateways.stripe import StripeService
from ai_features.payments.stripe_catalogue import (
    CatalogueError,
    catalogue_sync,
    credits_text,
    price_settings_parse,
    stripe_prices_fill,
)
from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct
from sandbox.stripe.tests.helpers import (
    URLS,
    active_prices,
    counts,
    dashboard,
    package,
    priced_stand_in,
)

pytestmark = [pytest.mark.urls(URLS), pytest.mark.django_db]


@pytest.fixture
def stripe(settings, monkeypatch):
    return priced_stand_in(settings, monkeypatch)


def sync(http, **options):
    service = StripeService(http_client=http)
    return {row.code: row for row in catalogue_sync(service=service, **options)}


def test_lost_ids_are_found_again_by_the_lookup_key_without_writing(stripe):
    sync(stripe)
    ids = dict(CreditPackage.objects.values_list("code", "stripe_price_id"))
    CreditPackage.objects.update(stripe_product_id="", stripe_price_id="")
    stripe.sent.clear()

    done = sync(stripe)

    assert stripe.writes() == [] and counts() == (3, 3)
    assert dict(CreditPackage.objects.values_list("code", "stripe_price_id")) == ids
    assert all(package(code).stripe_product_id.startswith("prod_") for code in ids)
    assert all(row.actions == [] for row in done.values())


def test_an_edited_package_updates_its_product_and_price_metadata_in_place(stripe):
    sync(stripe)
    price_id = package("value").stripe_price_id
    CreditPackage.objects.filter(code="value").update(
        name="Value plus", description="", bonus_credits=Decimal("25")
    )
    stripe.sent.clear()

    done = sync(stripe)

    product = StripeSandboxProduct.objects.get(stripe_id=package("value").stripe_product_id)
    assert (product.name, product.description) == ("Value plus", None)
    assert product.metadata == {"package": "value", "credits": "105"}
    price = StripeSandboxPrice.objects.get(stripe_id=price_id)
    assert price.metadata == {"package": "value", "credits": "105"} and price.active
    assert package("value").stripe_price_id == price_id
    assert done["value"].actions == ["update product", "update price"]
    assert done["starter"].actions == [] and counts() == (3, 3)


def test_an_archived_product_is_made_active_again(stripe):
    sync(stripe)
    dashboard().v1.products.update(package("starter").stripe_product_id, params={"active": False})

    done = sync(stripe)

    assert StripeSandboxProduct.objects.get(stripe_id=package("starter").stripe_product_id).active
    assert done["starter"].actions == ["update product"]


def test_a_stored_price_id_stripe_does_not_know_falls_back_to_the_lookup_key(stripe):
    sync(stripe)
    CreditPackage.objects.filter(code="premium").update(stripe_price_id="price_1NotAtThisAccount")

    done = sync(stripe)

    # The price holding the key was found and still fits: it is kept, not duplicated.
    assert done["premium"].actions == []
    assert package("premium").stripe_price_id.startswith("price_1")
    assert package("premium").stripe_price_id != "price_1NotAtThisAccount"
    assert counts() == (3, 3)


def test_a_stray_active_price_on_the_product_is_archived(stripe):
    sync(stripe)
    kept = package("value").stripe_price_id
    stray = dashboard().v1.prices.create(
        params={
            "product": package("value").stripe_product_id,
            "currency": "usd",
            "unit_amount": 100,
        }
    )

    done = sync(stripe)

    assert done["value"].actions == [f"archive {stray.id}"]
    assert [p.stripe_id for p in active_prices("value")] == [kept]


def test_a_price_without_the_key_gets_it_back(stripe):
    sync(stripe)
    dashboard().v1.prices.update(package("starter").stripe_price_id, params={"lookup_key": ""})

    done = sync(stripe)

    price = StripeSandboxPrice.objects.get(stripe_id=package("starter").stripe_price_id)
    assert price.lookup_key == "ai_credits_starter"
    assert done["starter"].actions == ["update price"]


def test_a_dry_run_with_prices_reads_only(stripe):
    done = sync(stripe, prices={"starter": Decimal("4.00")}, dry_run=True)

    assert done["starter"].amount == Decimal("4.00") and done["starter"].price_id == ""
    assert package("starter").stripe_price == Decimal("2.50")
    assert {s["method"].lower() for s in stripe.sent} == {"get"}


def test_fill_gives_prices_only_to_packages_without_one(db):
    CreditPackage.objects.filter(code="value").update(stripe_price=Decimal("9.00"))

    filled = stripe_prices_fill(
        prices={"starter": Decimal("2.50"), "value": Decimal("6.50"), "gold": Decimal("1")}
    )

    assert filled == ["starter"]
    assert package("starter").stripe_price == Decimal("2.50")
    assert package("value").stripe_price == Decimal("9.00")


def test_price_settings_are_parsed_to_cents():
    parsed = price_settings_parse(texts=["starter=2.5", " value=6 ", "premium=0.01"])

    assert parsed == {
        "starter": Decimal("2.50"),
        "value": Decimal("6.00"),
        "premium": Decimal("0.01"),
    }
    assert str(parsed["value"]) == "6.00"
    with pytest.raises(CatalogueError):
        price_settings_parse(texts=["starter=2.505"])


@pytest.mark.parametrize(
    ("amount", "text"),
    [("100.00", "100"), ("12.50", "12.50"), ("250", "250"), ("0.75", "0.75")],
)
def test_credits_are_metadata_strings(amount, text):
    assert credits_text(Decimal(amount)) == text
