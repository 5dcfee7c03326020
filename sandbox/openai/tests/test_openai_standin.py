"""The OpenAI stand-in of `make run`: the real SDK reads its answers, and the AI features work
against it end to end."""

import json
import time
from decimal import Decimal

import httpx2
import openai
import pytest
from django.test import Client

from ai_features.features import provider, services
from ai_features.models import AITransaction
from sandbox.openai import standin as openai_standin
from testing.credits import grant_credits, ledger_sum, stored_balance

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]
PATH = "/sandbox/openai/v1/chat/completions"


def through_django(request: httpx2.Request) -> httpx2.Response:
    """Hand the SDK's request to the Django test client, as if over HTTP."""
    answer = Client().generic(
        request.method,
        request.url.path,
        request.content,
        content_type="application/json",
        HTTP_AUTHORIZATION=request.headers.get("authorization", ""),
    )
    return httpx2.Response(
        answer.status_code, content=answer.content, headers={"content-type": answer["Content-Type"]}
    )


@pytest.fixture
def sdk_on_sandbox(settings, monkeypatch):
    settings.AI_PROVIDER_API_KEY = "sk-sandbox-local-only"
    settings.AI_PROVIDER_BASE_URL = "http://testserver/sandbox/openai/v1"
    settings.AI_PROVIDER_MAX_RETRIES = 0

    def client():
        transport = httpx2.MockTransport(through_django)
        return provider.ProviderClient(http_client=openai.DefaultHttpxClient(transport=transport))

    monkeypatch.setattr(services, "provider_client", client)
    return client


def ask(body, key="Bearer sk-sandbox"):
    return Client().post(PATH, body, content_type="application/json", HTTP_AUTHORIZATION=key)


def product(**fields):
    return {"product_name": "Kente scarf", "tone": "friendly", "max_words": 120, **fields}


def chat(user_fields, **extra):
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "rules"},
            {"role": "user", "content": json.dumps(user_fields)},
        ],
        **extra,
    }


def test_the_sdk_reads_a_deterministic_description_with_realistic_usage(sdk_on_sandbox):
    messages = chat(product(features=["hand-woven", "cotton"], category="Accessories"))

    first = sdk_on_sandbox().chat_complete(messages=messages["messages"])
    second = sdk_on_sandbox().chat_complete(messages=messages["messages"])

    assert first.text == second.text
    assert first.text.startswith("Say hello to the Kente scarf, a standout in accessories.")
    assert "hand-woven and cotton" in first.text
    assert first.prompt_tokens == openai_standin.tokens_in("rules") + openai_standin.tokens_in(
        messages["messages"][1]["content"]
    )
    assert first.total_tokens == first.prompt_tokens + first.completion_tokens


def test_the_word_limit_is_kept():
    body = ask(chat(product(max_words=20))).json()

    assert len(body["choices"][0]["message"]["content"].split()) == 20


def test_json_is_answered_when_json_is_asked_for():
    history = {
        "customer_name": "Ama",
        "purchases": [
            {"item": "Rice", "quantity": "2", "amount": "180.00", "date": "2026-10-02"},
            {"item": "Oil", "quantity": "1", "amount": "45.50", "date": "2026-11-01"},
        ],
    }

    body = ask(chat(history, response_format={"type": "json_object"})).json()

    insight = json.loads(body["choices"][0]["message"]["content"])
    assert insight["segment"] == "regular"
    assert "GHS 225.50" in insight["summary"] and "2026-10-02" in insight["summary"]
    assert len(insight["recommendations"]) >= 1


def test_the_features_work_end_to_end_against_the_sandbox(sdk_on_sandbox, business, api):
    grant_credits(business, 5)

    described = api.post("/ai/api/features/product-description/", product(), format="json")
    insight = api.post(
        "/ai/api/features/customer-insight/",
        {"purchases": [{"item": "Rice", "quantity": 1, "amount": 90, "date": "2026-11-01"}]},
        format="json",
    )

    assert described.status_code == 200, described.json()
    assert insight.status_code == 200, insight.json()
    assert insight.json()["result"]["segment"] == "new"
    assert insight.json()["balance"] == 0.5
    assert AITransaction.objects.filter(success=True).count() == 2
    assert stored_balance(business) == ledger_sum(business)


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [
        ("[sandbox:500]", 502, "ai_provider_error"),
        ("[sandbox:429]", 502, "ai_provider_error"),
        ("[sandbox:refuse]", 502, "ai_provider_error"),
        ("[sandbox:garbage]", 502, "ai_provider_error"),
    ],
)
def test_markers_make_it_fail_as_providers_do_and_nothing_is_charged(
    sdk_on_sandbox, business, api, marker, status, code
):
    grant_credits(business, 5)

    response = api.post(
        "/ai/api/features/product-description/", product(product_name=marker), format="json"
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert stored_balance(business) == 5


def test_a_user_message_nested_too_deeply_is_answered_as_one_that_is_not_json():
    deep = "[" * 100_000 + "]" * 100_000
    body = {"model": "m", "messages": [{"role": "user", "content": deep}]}

    response = ask(body)

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"]


def test_no_bearer_key_is_401_in_openais_shape():
    response = ask(chat(product()), key="")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("body", [{}, {"model": "m"}, {"model": "m", "messages": "hi"}])
def test_a_malformed_request_is_400(body):
    assert ask(body).status_code == 400


def test_it_is_404_when_the_sandbox_is_off(settings):
    settings.SANDBOX = False

    assert ask(chat(product())).status_code == 404


# --- [sandbox:slow=N] ----------------------------------------------------------------------------


@pytest.fixture
def waits(monkeypatch):
    """The stand-in's pauses, recorded instead of slept."""
    seen = []
    monkeypatch.setattr(openai_standin, "pause", seen.append)
    return seen


def test_the_slow_marker_waits_then_answers_normally(waits):
    answer = ask(chat(product(product_name="Kente scarf [sandbox:slow=3]")))

    assert answer.status_code == 200
    assert waits == [3.0]
    assert answer.json()["choices"][0]["message"]["content"].startswith("Say hello to the Kente")


@pytest.mark.parametrize(
    ("marker", "seconds"),
    [("[sandbox:slow=0.5]", 0.5), ("[sandbox:slow=30]", 30.0), ("[sandbox:slow=31]", 30.0)]
    + [("[sandbox:slow=999999]", 30.0)],
)
def test_the_wait_is_a_number_of_seconds_bounded_at_thirty(waits, marker, seconds):
    assert ask(chat(product(product_name=marker))).status_code == 200
    assert waits == [seconds]


@pytest.mark.parametrize(
    "text", ["[sandbox:slow=]", "[sandbox:slow=-1]", "[sandbox:slow=1e3]", "[sandbox:slow=x]"]
)
def test_a_slow_marker_without_a_plain_number_is_not_one(waits, text):
    assert ask(chat(product(product_name=text))).status_code == 200
    assert waits == []


def test_the_wait_is_real_when_nothing_replaces_it():
    started = time.monotonic()

    assert ask(chat(product(product_name="[sandbox:slow=0.2]"))).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_slow_and_a_failure_together_wait_first_then_fail(waits):
    answer = ask(chat(product(product_name="[sandbox:500][sandbox:slow=12]")))

    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "server_error"
    assert waits == [12.0]  # the failure came after the wait, whatever the markers' order


def test_a_slow_failing_feature_call_holds_then_releases_and_charges_nothing(
    sdk_on_sandbox, business, api, monkeypatch
):
    grant_credits(business, 5)
    during = []
    monkeypatch.setattr(
        openai_standin, "pause", lambda seconds: during.append(stored_balance(business))
    )

    response = api.post(
        "/ai/api/features/product-description/",
        product(product_name="[sandbox:slow=12] [sandbox:500]"),
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (502, "ai_provider_error")
    assert during == [Decimal("2.50")]  # the call's 2.50 was on hold while the provider waited
    assert stored_balance(business) == 5 == ledger_sum(business)
