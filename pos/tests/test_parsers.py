"""The API's JSON parser (pos.parsers): numbers as Decimal, exactly as written, and JSON nested too
deeply a 400 `parse_error`, never a RecursionError and a 500 (issue 19, items 4 and 5)."""

import io
import logging
from decimal import Decimal

import pytest
from rest_framework.exceptions import ParseError

from pos.jsonsafe import ExponentDecimal, JSONDecimal, TooDeep, json_loads, json_number
from pos.parsers import JSONParser

LEVELS = [pytest.param(1_000, id="1k-levels"), pytest.param(100_000, id="100k-levels")]


def parse(text: str):
    return JSONParser().parse(io.BytesIO(text.encode()), parser_context={})


def deep(levels: int) -> str:
    """The attack's body: `{"event": "x", "data": [[[…]]]}`, about 2 KB at 1,000 levels."""
    return '{"event": "x", "data": ' + "[" * levels + "]" * levels + "}"


def test_numbers_are_decimal_exactly_as_written_never_float():
    data = parse('{"a": 10.0000000000000000000000001, "b": 10.50, "c": 1e1, "d": 10}')

    assert data["a"] == Decimal("10.0000000000000000000000001")
    assert isinstance(data["a"], JSONDecimal) and str(data["b"]) == "10.50"
    assert isinstance(data["c"], ExponentDecimal) and data["c"] == 10
    assert data["d"] == 10 and type(data["d"]) is int


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(text):
    with pytest.raises(ParseError):
        parse(f'{{"a": {text}}}')


@pytest.mark.parametrize("levels", LEVELS)
def test_json_nested_too_deeply_is_a_parse_error(levels):
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(deep(levels))


def test_json_nested_a_little_is_read():
    assert parse(deep(50))["event"] == "x"


@pytest.mark.parametrize("levels", LEVELS)
def test_json_loads_says_too_deep_as_a_value_error(levels):
    with pytest.raises(TooDeep) as raised:
        json_loads(deep(levels), parse_float=json_number)

    assert isinstance(raised.value, ValueError)


@pytest.mark.django_db
@pytest.mark.parametrize("levels", LEVELS)
@pytest.mark.parametrize("path", ["/accounts/api/auth/token/", "/accounts/api/auth/register/"])
def test_the_unauthenticated_endpoints_answer_400_parse_error_to_deep_json(
    client, caplog, path, levels
):
    body = deep(levels).encode()

    response = client.generic("POST", path, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested too deeply" in response.json()["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
@pytest.mark.parametrize("levels", LEVELS)
def test_an_authenticated_endpoint_answers_400_parse_error_to_deep_json(api, levels):
    response = api.generic(
        "POST", "/ai/api/credits/purchase/", deep(levels).encode(), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
