"""Reading Stripe's form-encoded bodies: bracket keys back into nested params, Stripe's checks."""

import pytest
from django.http import QueryDict
from stripe._encode import _api_encode

from sandbox.stripe.forms import (
    Params,
    StripeError,
    form_parse,
    metadata_apply,
)


def parsed(query: str) -> dict:
    return form_parse(QueryDict(query).lists())


def as_the_sdk_sends(params: dict) -> dict:
    """Encode `params` with the SDK's own encoder, then parse them back as the stand-in does."""
    pairs = [(key, str(value)) for key, value in _api_encode(params)]
    query = QueryDict(mutable=True)
    for key, value in pairs:
        query.appendlist(key, value)
    return form_parse(query.lists())


def test_the_sdks_nested_params_come_back_as_sent():
    params = {
        "mode": "payment",
        "line_items": [{"price": "price_1", "quantity": 2}, {"price": "price_2", "quantity": 1}],
        "metadata": {"purchase_id": "7", "business_id": "3"},
        "payment_intent_data": {"metadata": {"reference": "AI-CRED-0001"}},
        "expand": ["line_items"],
        "success_url": "http://shop.test/cb?session_id={CHECKOUT_SESSION_ID}",
    }

    assert as_the_sdk_sends(params) == {
        "mode": "payment",
        "line_items": [
            {"price": "price_1", "quantity": "2"},
            {"price": "price_2", "quantity": "1"},
        ],
        "metadata": {"purchase_id": "7", "business_id": "3"},
        "payment_intent_data": {"metadata": {"reference": "AI-CRED-0001"}},
        "expand": ["line_items"],
        "success_url": "http://shop.test/cb?session_id={CHECKOUT_SESSION_ID}",
    }


def test_empty_brackets_append_and_digit_metadata_keys_stay_a_hash():
    assert parsed("lookup_keys[]=a&lookup_keys[]=b") == {"lookup_keys": ["a", "b"]}
    assert parsed("metadata[0]=zero&metadata[1]=one") == {"metadata": {"0": "zero", "1": "one"}}


def test_booleans_arrive_as_the_sdk_encodes_them_and_nones_not_at_all():
    sent = as_the_sdk_sends({"active": False, "transfer_lookup_key": True, "nickname": None})

    assert sent == {"active": "false", "transfer_lookup_key": "true"}
    assert Params(sent).boolean("active") is False
    assert Params(sent).boolean("transfer_lookup_key") is True


@pytest.mark.parametrize(
    "query, message",
    [
        ("line_items[1][price]=p", "Invalid array: line_items must be indexed from 0"),
        ("a[b]=1&a=2", "Invalid hash"),
        ("a=2&a[b]=1", "Invalid hash"),
        ("a]b=1", "Invalid parameter name"),
    ],
)
def test_malformed_keys_are_refused(query, message):
    with pytest.raises(StripeError) as caught:
        parsed(query)

    assert message in caught.value.message
    assert caught.value.http_status == 400 and caught.value.saved is False


def test_params_check_like_stripe():
    params = Params(parsed("unit_amount=10.5&name=&active=yes&currency=USD&bad=1"))

    with pytest.raises(StripeError, match="Invalid integer: 10.5") as caught:
        params.integer("unit_amount")
    assert caught.value.param == "unit_amount"
    assert caught.value.code == "parameter_invalid_integer"
    with pytest.raises(StripeError, match=r"Missing required param: name\."):
        params.string("name", required=True)
    with pytest.raises(StripeError, match="Invalid boolean: yes"):
        params.boolean("active")
    assert params.currency() == "usd"
    with pytest.raises(StripeError, match="Received unknown parameter: bad") as caught:
        params.only("unit_amount", "name", "active", "currency")
    assert caught.value.code == "parameter_unknown"


def test_nested_errors_name_the_full_parameter():
    params = Params(parsed("line_items[0][quantity]=-1"))
    item = Params(params.array("line_items")[0], "line_items[0]")

    with pytest.raises(StripeError) as caught:
        item.integer("quantity", minimum=1)

    assert caught.value.param == "line_items[0][quantity]"


def test_metadata_limits():
    too_long_key = Params({"metadata": {"k" * 41: "v"}})
    too_many = Params({"metadata": {f"k{i}": "v" for i in range(51)}})

    with pytest.raises(StripeError, match="at most 40 characters"):
        too_long_key.metadata()
    with pytest.raises(StripeError, match="up to 50 keys"):
        too_many.metadata()


def test_metadata_updates_merge_unset_and_clear():
    current = {"credits": "100", "code": "value"}

    assert metadata_apply(current, None) == current
    assert metadata_apply(current, {"credits": "120", "new": "x"}) == {
        "credits": "120",
        "code": "value",
        "new": "x",
    }
    assert metadata_apply(current, {"code": ""}) == {"credits": "100"}
    assert metadata_apply(current, Params({"metadata": ""}).metadata()) == {}


def test_the_error_envelope_has_stripes_four_fields():
    error = StripeError("No such price: 'price_x'", code="resource_missing", param="price")

    assert error.body() == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such price: 'price_x'",
            "param": "price",
        }
    }
