"""Money and dates from outside are read one strict way (issue 19, item 4): money is a JSON
number or a string of ASCII digits with at most 2 decimals, read as Decimal and never rounded;
dates are ISO 8601. `1_000`, Arabic-Indic digits, `1e1`, `10.000`, a JSON number past two
places and `2026-1-1` are 400s, wherever they come in."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ai_features.credits.credits import credits_amount_checked
from ai_features.credits.dates import date_parse, datetime_parse
from ai_features.errors import InvalidAmount
from ai_features.models import AICreditPurchase, AITransaction
from ai_features.payments.stripe_catalogue import CatalogueError, price_settings_parse
from testing.credits import grant_credits, stored_balance

PURCHASE = "/ai/api/credits/purchase/"
INSIGHT = "/ai/api/features/customer-insight/"
TRANSACTIONS = "/ai/api/credits/transactions/"
SUMMARY = "/ai/api/credits/usage/summary/"
DAILY = "/ai/api/credits/usage/daily/"
ARABIC_INDIC_100 = "\u0661\u0660\u0660"  # ١٠٠
EXTENDED_ARABIC_INDIC_10 = "\u06f1\u06f0"  # ۱۰
FULLWIDTH_10 = "\uff11\uff10"  # １０

# custom_amount as raw JSON text: the body is sent byte for byte, so a number stays as written.
MONEY_REFUSED = [
    pytest.param('"1_000"', id="underscore-string"),
    pytest.param(f'"{ARABIC_INDIC_100}"', id="arabic-indic-digits"),
    pytest.param(f'"{EXTENDED_ARABIC_INDIC_10}0"', id="extended-arabic-indic-digits"),
    pytest.param(f'"{FULLWIDTH_10}0"', id="fullwidth-digits"),
    pytest.param("10.0000000000000000000000001", id="json-number-past-two-places"),
    pytest.param("100.001", id="json-number-three-places"),
    pytest.param("10.000", id="json-number-trailing-zero"),
    pytest.param('"10.000"', id="string-trailing-zero"),
    pytest.param("1e2", id="json-exponent"),
    pytest.param("1.0e2", id="json-exponent-with-fraction"),
    pytest.param("10000E-2", id="json-negative-exponent"),
    pytest.param('"1e2"', id="string-exponent"),
    pytest.param('" 100"', id="string-with-space"),
    pytest.param('"+100"', id="string-with-sign"),
    pytest.param('"100."', id="string-point-no-decimals"),
    pytest.param('".5"', id="string-no-units"),
    pytest.param('"NaN"', id="nan-string"),
    pytest.param('"Infinity"', id="infinity-string"),
    pytest.param("true", id="bool"),
    pytest.param('"100,00"', id="comma"),
    pytest.param("[100]", id="list"),
]
MONEY_ACCEPTED = [
    pytest.param("100", "100.00", id="json-int"),
    pytest.param("100.5", "100.50", id="json-one-place"),
    pytest.param("100.25", "100.25", id="json-two-places"),
    pytest.param('"100"', "100.00", id="string-int"),
    pytest.param('"100.5"', "100.50", id="string-one-place"),
    pytest.param('"100.00"', "100.00", id="string-two-places"),
]


def post_raw(api, path, text: str):
    return api.generic("POST", path, text.encode(), content_type="application/json")


def purchase_body(custom_amount_json: str) -> str:
    return f'{{"package": "custom", "custom_amount": {custom_amount_json}}}'


# --- the parsers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["1_000", ARABIC_INDIC_100, "1e1", "10.000", 1.5, float("nan"), True, "NaN", " 1", None],
)
def test_the_services_refuse_what_money_parse_refuses(amount):
    with pytest.raises(InvalidAmount):
        credits_amount_checked(amount)


def test_the_services_take_code_decimals_by_their_value():
    assert credits_amount_checked(Decimal("15.0000")) == Decimal("15.00")  # a product of money
    assert credits_amount_checked(30) == Decimal("30.00")
    with pytest.raises(InvalidAmount):
        credits_amount_checked(Decimal("15.001"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-01-31", date(2026, 1, 31)), ("2024-02-29", date(2024, 2, 29))],
)
def test_dates_are_iso(text, expected):
    assert date_parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-1-1",
        "2026-01-1",
        "26-01-01",
        "20260101",
        "2026/01/01",
        "2026-13-01",
        "2026-02-30",
        "2025-02-29",
        " 2026-01-01",
        "2026-01-01 ",
        "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661",  # ٢٠٢٦-٠١-٠١
        "2026-01-01T00:00:00",
        "",
        20260101,
        None,
    ],
)
def test_dates_not_written_yyyy_mm_dd_are_refused(text):
    with pytest.raises(ValueError):
        date_parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T13:00:00Z", datetime(2026, 1, 5, 13, tzinfo=UTC)),
        ("2026-01-05T13:00Z", datetime(2026, 1, 5, 13, tzinfo=UTC)),
        (
            "2026-01-05T13:00:00.5+01:00",
            datetime(2026, 1, 5, 13, 0, 0, 500000, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-01-05T13:00:00", datetime(2026, 1, 5, 13)),
    ],
)
def test_moments_are_iso(text, expected):
    assert datetime_parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05 13:00:00",  # a `+` in a query string arrives as a space, too
        "2026-01-05T13:00:00 00:00",
        "2026-01-05X13:00:00",
        "2026-01-05T13",
        "2026-01-05T1:00",
        "2026-01-05T13:00:00+0100",
        "2026-01-05T13:00:00.1234567",
        "2026-01-05T24:00:00",
        "2026-01-05T13:00:00+24:00",
        "2026-1-5T13:00:00Z",
        "20260105T130000Z",
        "2026-01-05t13:00:00z",
        "\u0662\u0660\u0662\u0666-01-05T13:00:00Z",
    ],
)
def test_moments_not_in_iso_8601_are_refused(text):
    with pytest.raises(ValueError):
        datetime_parse(text)


# --- requests -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("amount", MONEY_REFUSED)
def test_a_custom_amount_not_written_as_money_is_a_400_and_buys_nothing(api, paystack, amount):
    response = post_raw(api, PURCHASE, purchase_body(amount))

    assert response.status_code == 400, response.content
    assert "custom_amount" in response.json()
    assert not AICreditPurchase.objects.exists()
    assert not paystack.mock.calls


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "expected"), MONEY_ACCEPTED)
def test_a_custom_amount_written_as_money_buys_exactly_that(api, paystack, amount, expected):
    paystack.initialize_ok()

    response = post_raw(api, PURCHASE, purchase_body(amount))

    assert response.status_code == 201, response.content
    assert AICreditPurchase.objects.get().amount_paid == Decimal(expected)


@pytest.mark.django_db
def test_json_money_answers_are_still_json_numbers(api, paystack):
    paystack.initialize_ok()

    body = post_raw(api, PURCHASE, purchase_body('"123.45"')).json()

    assert body["invoice"]["base_amount"] == 123.45
    assert isinstance(body["amount"], float)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text", ["NaN", "Infinity", "-Infinity"], ids=["nan", "infinity", "minus-infinity"]
)
def test_json_constants_that_are_not_json_are_a_parse_error(api, paystack, text):
    response = post_raw(api, PURCHASE, purchase_body(text))

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not AICreditPurchase.objects.exists()


LINE = '{"item": "Rice", "quantity": QUANTITY, "amount": AMOUNT, "date": DATE}'


def insight_body(quantity="1", amount="10", day='"2026-11-01"') -> str:
    line = LINE.replace("QUANTITY", quantity).replace("AMOUNT", amount).replace("DATE", day)
    return f'{{"purchases": [{line}]}}'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(insight_body(amount='"1_000"'), id="amount-underscore"),
        pytest.param(insight_body(amount=f'"{ARABIC_INDIC_100}"'), id="amount-arabic-indic"),
        pytest.param(insight_body(amount="10.0000000000000000000000001"), id="amount-past-2dp"),
        pytest.param(insight_body(amount="1e1"), id="amount-exponent"),
        pytest.param(insight_body(amount="10.000"), id="amount-three-places"),
        pytest.param(insight_body(quantity='"1_5"'), id="quantity-underscore"),
        pytest.param(insight_body(quantity="1.0001"), id="quantity-past-3dp"),
        pytest.param(insight_body(quantity="1e0"), id="quantity-exponent"),
        pytest.param(insight_body(day='"2026-1-1"'), id="date-unpadded"),
        pytest.param(insight_body(day='"20261101"'), id="date-basic-format"),
        pytest.param(
            insight_body(day='"\u0662\u0660\u0662\u0666-11-01"'), id="date-arabic-indic-year"
        ),
        pytest.param(insight_body(day='"2026-11-01T10:00:00Z"'), id="date-with-time"),
    ],
)
def test_customer_insight_purchases_are_read_strictly(api, business, llm, body):
    grant_credits(business, 10)

    response = post_raw(api, INSIGHT, body)

    assert response.status_code == 400, response.content
    assert "purchases" in response.json()
    assert not llm.requests
    assert not AITransaction.objects.exists()
    assert stored_balance(business) == Decimal("10.00")


@pytest.mark.django_db
def test_customer_insight_sends_the_amounts_as_written_and_exact(api, business, llm):
    grant_credits(business, 10)
    llm.then(
        llm.completion(json.dumps({"summary": "S.", "segment": "new", "recommendations": ["R"]}))
    )

    response = post_raw(api, INSIGHT, insight_body(quantity="1.125", amount="45.5"))

    assert response.status_code == 200, response.content
    sent = json.loads(llm.sent()["messages"][1]["content"])
    assert sent["purchases"][0] == {
        "item": "Rice",
        "quantity": "1.125",
        "amount": "45.50",
        "date": "2026-11-01",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", [TRANSACTIONS, SUMMARY, DAILY])
@pytest.mark.parametrize(
    "day",
    [
        "2026-1-1",
        "2026-01-1",
        "20260101",
        "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661",
        "2026-02-30",
        " 2026-01-01",
    ],
)
def test_usage_filters_take_only_iso_dates(api, path, day):
    for name in ("from", "to"):
        response = api.get(path, {name: day})

        assert response.status_code == 400, (name, response.content)
        assert name in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [TRANSACTIONS, SUMMARY])
@pytest.mark.parametrize(
    "moment", ["2026-01-05 13:00:00", "2026-01-05T13:00:00 00:00", "2026-01-05T13:00:00+0000"]
)
def test_usage_filters_take_only_iso_moments(api, path, moment):
    response = api.get(path, {"from": moment})

    assert response.status_code == 400
    assert "from" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [TRANSACTIONS, SUMMARY])
def test_usage_filters_still_take_dates_and_moments(api, path):
    assert api.get(path, {"from": "2026-01-05", "to": "2026-01-10"}).status_code == 200
    assert api.get(path, {"from": "2026-01-05T13:00:00Z"}).status_code == 200
    assert api.get(path, {"from": "2026-01-05T13:00:00+01:00"}).status_code == 200
    assert api.get(path, {"from": "2026-01-05T13:00"}).status_code == 200


# --- command arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "starter=1_000",
        f"starter={ARABIC_INDIC_100}",
        f"starter={FULLWIDTH_10}",
        "starter=1e1",
        "starter=2.500",
        "starter= 2.50",
        "starter=+2.50",
        "starter=NaN",
        "st\u0430rter=2.50",  # a Cyrillic a in the code
    ],
)
def test_a_price_argument_not_written_as_money_is_refused(text):
    with pytest.raises(CatalogueError, match="CODE=AMOUNT"):
        price_settings_parse(texts=[text])


def test_a_price_argument_written_as_money_is_read_exactly():
    prices = price_settings_parse(texts=["starter=2.5", " value=6.50 ", "premium=14"])

    assert prices == {
        "starter": Decimal("2.50"),
        "value": Decimal("6.50"),
        "premium": Decimal("14.00"),
    }
