"""Products and one-time Prices through the real SDK, as `setup_stripe_credit_products` uses
them."""

from decimal import Decimal

import pytest
import stripe

from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct
from testing.stripe_api import stripe_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]


def make_product(sdk, **params):
    return sdk.v1.products.create(
        params={"name": "Value pack", "metadata": {"package": "value"}, **params}
    )


def make_price(sdk, product_id, **params):
    body = {"product": product_id, "currency": "usd", "unit_amount": 999, **params}
    return sdk.v1.prices.create(params=body)


def test_a_product_is_created_in_stripes_shape(sdk):
    created = make_product(sdk, description="100 AI credits")

    body = created.to_dict()
    assert list(body) == list(stripe_json("product.json"))
    assert created.id.startswith("prod_")
    assert body["object"] == "product" and body["active"] is True and body["livemode"] is False
    assert body["name"] == "Value pack" and body["description"] == "100 AI credits"
    assert body["metadata"] == {"package": "value"}
    assert sdk.v1.products.retrieve(created.id).to_dict() == body


def test_a_product_may_bring_its_own_id_once(sdk):
    created = make_product(sdk, id="credits-value")

    assert created.id == "credits-value"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        make_product(sdk, id="credits-value")
    assert caught.value.code == "resource_already_exists"


def test_a_product_update_merges_metadata_and_can_archive(sdk):
    created = make_product(sdk, metadata={"package": "value", "credits": "100"})

    updated = sdk.v1.products.update(
        created.id,
        params={
            "name": "Value pack+",
            "metadata": {"credits": "120", "package": ""},
            "active": False,
        },
    )

    assert updated.name == "Value pack+"
    assert updated.active is False
    assert updated.metadata.to_dict() == {"credits": "120"}
    assert StripeSandboxProduct.objects.get(stripe_id=created.id).active is False


def test_a_product_needs_a_name(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.products.create(params={"description": "nameless"})

    assert caught.value.http_status == 400
    assert caught.value.code == "parameter_missing"
    assert caught.value.param == "name"


def test_an_unknown_product_is_404_resource_missing(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.products.retrieve("prod_missing")

    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.user_message == "No such product: 'prod_missing'"


def test_a_one_time_price_is_created_in_stripes_shape(sdk):
    product = make_product(sdk)

    created = make_price(sdk, product.id, lookup_key="credits_value", nickname="Value, USD")

    body = created.to_dict()
    assert list(body) == list(stripe_json("price.one_time.json"))
    assert created.id.startswith("price_")
    assert body["type"] == "one_time" and body["recurring"] is None
    assert body["unit_amount"] == 999 and body["unit_amount_decimal"] == Decimal("999")
    assert body["currency"] == "usd" and body["product"] == product.id
    assert body["lookup_key"] == "credits_value" and body["nickname"] == "Value, USD"
    assert sdk.v1.prices.retrieve(created.id).to_dict() == body


def test_prices_are_one_time_only_and_need_a_real_product(sdk):
    product = make_product(sdk)

    with pytest.raises(stripe.InvalidRequestError) as recurring:
        make_price(sdk, product.id, recurring={"interval": "month"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        make_price(sdk, "prod_missing")

    assert recurring.value.param == "recurring"
    assert missing.value.http_status == 400 and missing.value.code == "resource_missing"
    assert StripeSandboxPrice.objects.count() == 0


def test_a_price_amount_is_immutable(sdk):
    price = make_price(sdk, make_product(sdk).id)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.prices.update(price.id, params={"unit_amount": 1299})

    assert caught.value.http_status == 400
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "unit_amount"
    assert StripeSandboxPrice.objects.get(stripe_id=price.id).unit_amount == 999


def test_a_price_update_changes_only_what_stripe_allows(sdk):
    price = make_price(sdk, make_product(sdk).id, metadata={"credits": "100"})

    updated = sdk.v1.prices.update(
        price.id,
        params={"active": False, "nickname": "old", "metadata": {"archived": "yes"}},
    )

    assert updated.active is False and updated.nickname == "old"
    assert updated.metadata.to_dict() == {"credits": "100", "archived": "yes"}
    assert updated.unit_amount == 999


def test_a_lookup_key_belongs_to_one_price_until_transferred(sdk):
    product = make_product(sdk)
    old = make_price(sdk, product.id, lookup_key="credits_value")

    with pytest.raises(stripe.InvalidRequestError) as taken:
        make_price(sdk, product.id, unit_amount=1299, lookup_key="credits_value")
    new = make_price(
        sdk, product.id, unit_amount=1299, lookup_key="credits_value", transfer_lookup_key=True
    )

    assert taken.value.param == "lookup_key"
    assert old.id in taken.value.user_message
    assert sdk.v1.prices.retrieve(old.id).lookup_key is None
    found = sdk.v1.prices.list(params={"lookup_keys": ["credits_value"]})
    assert [p.id for p in found.data] == [new.id]


def test_prices_list_filters_by_product_and_active_in_stripes_list_shape(sdk):
    value, pro = make_product(sdk), make_product(sdk, name="Pro pack")
    archived = make_price(sdk, value.id, unit_amount=500)
    sdk.v1.prices.update(archived.id, params={"active": False})
    current = make_price(sdk, value.id, unit_amount=999)
    make_price(sdk, pro.id, unit_amount=2999)

    listed = sdk.v1.prices.list(params={"product": value.id, "active": True})

    assert listed.object == "list"
    assert listed.url == "/v1/prices" and listed.has_more is False
    assert [p.id for p in listed.data] == [current.id]
    every = sdk.v1.prices.list(params={"product": value.id})
    assert [p.id for p in every.data] == [current.id, archived.id]  # newest first


def test_lists_page_with_starting_after_as_the_sdk_iterates(sdk, stripe_http):
    product = make_product(sdk)
    made = [make_price(sdk, product.id, unit_amount=100 + i).id for i in range(5)]

    first = sdk.v1.prices.list(params={"limit": 2})
    every = [p.id for p in first.auto_paging_iter()]

    assert first.has_more is True and len(first.data) == 2
    assert every == list(reversed(made))
    assert any("starting_after" in sent["path"] for sent in stripe_http.sent)
    back = sdk.v1.prices.list(params={"limit": 2, "ending_before": made[1]})
    assert [p.id for p in back.data] == [made[3], made[2]]


def test_products_list(sdk):
    kept = make_product(sdk)
    archived = make_product(sdk, name="Old", active=False)

    assert [p.id for p in sdk.v1.products.list(params={"active": True}).data] == [kept.id]
    assert [p.id for p in sdk.v1.products.list().data] == [archived.id, kept.id]
