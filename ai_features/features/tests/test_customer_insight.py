"""Customer insight's prompt and the validation of what the model answers."""

from datetime import date
from decimal import Decimal

import pytest

from ai_features.features.catalog import customer_insight
from ai_features.features.provider import Completion, UnusableAnswer

DATA = {
    "customer_name": "Ama",
    "purchases": [
        {
            "item": "Rice",
            "quantity": Decimal("2"),
            "amount": Decimal("180.00"),
            "date": date(2026, 10, 2),
        },
    ],
    "notes": "",
}


def answered(text: str) -> Completion:
    return Completion(
        text=text, model="m", prompt_tokens=10, completion_tokens=5, total_tokens=15, request_id=""
    )


def test_the_system_prompt_is_fixed_and_the_history_is_json_in_the_user_message():
    system, user = customer_insight.FEATURE.messages_for(DATA)

    assert system == {"role": "system", "content": customer_insight.SYSTEM_PROMPT}
    assert user["role"] == "user"
    assert user["content"] == (
        '{"customer_name": "Ama", "purchases": [{"item": "Rice", "quantity": "2", '
        '"amount": "180.00", "date": "2026-10-02"}], "notes": null}'
    )


def test_a_schema_shaped_answer_is_kept_and_trimmed():
    result = customer_insight.result_from(
        answered(
            '{"summary": " Buys rice. ", "segment": "loyal", '
            '"recommendations": [" Stock rice ", "Say thanks"]}'
        )
    )

    assert result == {
        "summary": "Buys rice.",
        "segment": "loyal",
        "recommendations": ["Stock rice", "Say thanks"],
    }


def test_a_json_answer_in_a_markdown_fence_is_read():
    fenced = '```json\n{"summary": "s", "segment": "new", "recommendations": ["r"]}\n```'

    assert customer_insight.result_from(answered(fenced))["segment"] == "new"


def test_at_most_ten_recommendations_are_kept():
    many = (
        '{"summary": "s", "segment": "new", "recommendations": '
        + str([f"r{i}" for i in range(15)]).replace("'", '"')
        + "}"
    )

    assert len(customer_insight.result_from(answered(many))["recommendations"]) == 10


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not valid JSON"),
        ('{"summary": "cut', "not valid JSON"),
        ("[1, 2]", "not an object"),
        ('{"segment": "new", "recommendations": ["r"]}', "no summary"),
        ('{"summary": "  ", "segment": "new", "recommendations": ["r"]}', "no summary"),
        ('{"summary": "s", "segment": 3, "recommendations": ["r"]}', "no segment"),
        ('{"summary": "s", "segment": "' + "x" * 61 + '", "recommendations": ["r"]}', "no segment"),
        ('{"summary": "s", "segment": "new", "recommendations": "r"}', "recommendations"),
        ('{"summary": "s", "segment": "new", "recommendations": []}', "recommendations"),
        ('{"summary": "s", "segment": "new", "recommendations": [1]}', "recommendations"),
    ],
)
def test_answers_that_do_not_fit_the_shape_are_unusable(text, reason):
    with pytest.raises(UnusableAnswer, match=reason) as caught:
        customer_insight.result_from(answered(text))

    assert caught.value.completion.total_tokens == 15


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_an_answer_nested_too_deeply_is_unusable_not_a_crash(levels):
    text = '{"summary": ' + "[" * levels + "]" * levels + "}"

    with pytest.raises(UnusableAnswer, match="not valid JSON"):
        customer_insight.result_from(answered(text))


def test_the_schema_asks_for_exactly_the_three_fields():
    schema = customer_insight.JSON_SCHEMA["schema"]

    assert schema["required"] == ["summary", "segment", "recommendations"]
    assert schema["additionalProperties"] is False
