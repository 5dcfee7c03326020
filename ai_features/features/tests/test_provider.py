"""The provider client: the real openai SDK against the published payloads in
../shared/openai/fixtures, served through an httpx MockTransport."""

import json
from decimal import Decimal

import httpx2
import openai
import pytest

from ai_features.errors import ProviderError, ProviderNotConfigured, ProviderTimeout
from ai_features.features import provider
from ai_features.features.provider import ProviderClient, UnusableAnswer, cost_usd
from testing.provider import ProviderMock, openai_json

MESSAGES = [{"role": "system", "content": "rules"}, {"role": "user", "content": "hello"}]


@pytest.fixture
def stand_in(settings):
    settings.AI_PROVIDER_API_KEY = "sk-test-secret-do-not-leak"
    settings.AI_PROVIDER_BASE_URL = "https://llm.test/v1"
    settings.AI_PROVIDER_MAX_RETRIES = 0
    settings.AI_PROVIDER_TIMEOUT_SECONDS = 7
    settings.AI_MODEL = "gpt-4o-mini"
    settings.AI_MAX_OUTPUT_TOKENS = 321
    return ProviderMock()


def client_for(stand_in) -> ProviderClient:
    transport = httpx2.MockTransport(stand_in.handler)
    return ProviderClient(http_client=openai.DefaultHttpxClient(transport=transport))


def complete(stand_in, **kwargs):
    return client_for(stand_in).chat_complete(messages=MESSAGES, **kwargs)


def test_a_published_success_payload_gives_its_text_usage_and_request_id(stand_in):
    stand_in.then(openai_json("chat_completion.success.json"))

    completion = complete(stand_in)

    assert completion.text == "Hello! How can I assist you today?"
    assert (completion.prompt_tokens, completion.completion_tokens) == (19, 10)
    assert completion.total_tokens == 29
    assert completion.model == "gpt-5.4"
    assert completion.request_id == "req_standin_1"


@pytest.mark.parametrize(
    "fixture", ["chat_completion.success.recorded_live.json", "chat_completion.vllm.json"]
)
def test_live_recorded_and_vllm_answers_are_read_too(stand_in, fixture):
    body = openai_json(fixture)
    stand_in.then(body)

    completion = complete(stand_in)

    assert completion.text == body["choices"][0]["message"]["content"].strip()
    assert completion.total_tokens == body["usage"]["total_tokens"]


def test_the_request_carries_model_messages_output_limit_and_the_bearer_key(stand_in):
    complete(stand_in)

    sent = stand_in.sent()
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == MESSAGES
    assert sent["max_tokens"] == 321
    assert "response_format" not in sent
    request = stand_in.requests[0]
    assert str(request.url) == "https://llm.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-secret-do-not-leak"


def test_a_json_schema_is_asked_for_as_structured_output(stand_in):
    schema = {"name": "x", "strict": True, "schema": {"type": "object"}}

    complete(stand_in, json_schema=schema)

    assert stand_in.sent()["response_format"] == {"type": "json_schema", "json_schema": schema}


def test_timeout_and_retries_come_from_settings(stand_in):
    client = client_for(stand_in)

    assert client._sdk.timeout == 7
    assert client._sdk.max_retries == 0


def test_the_sdk_retries_as_configured_and_then_succeeds(stand_in, settings):
    settings.AI_PROVIDER_MAX_RETRIES = 1
    stand_in.then(
        httpx2.Response(
            500, json=openai_json("error.500.server_error.json"), headers={"retry-after-ms": "1"}
        )
    )

    completion = complete(stand_in)

    assert len(stand_in.requests) == 2
    assert completion.text == stand_in.text


def test_retries_that_all_fail_end_in_a_provider_error(stand_in, settings):
    settings.AI_PROVIDER_MAX_RETRIES = 1
    failing = {"retry-after-ms": "1"}
    body = openai_json("error.503.overloaded.json")
    stand_in.then(httpx2.Response(503, json=body, headers=failing))
    stand_in.then(httpx2.Response(503, json=body, headers=failing))

    with pytest.raises(ProviderError) as caught:
        complete(stand_in)

    assert len(stand_in.requests) == 2
    assert caught.value.status_code == 502


@pytest.mark.parametrize(
    ("status", "fixture", "words"),
    [
        (401, "error.401.invalid_api_key.json", "credentials"),
        (429, "error.429.rate_limit_exceeded.json", "busy"),
        (429, "error.429.insufficient_quota.json", "quota"),
        (400, "error.400.context_length_exceeded.json", "(400)"),
        (500, "error.500.server_error.json", "(500)"),
        (503, "error.503.overloaded.json", "(503)"),
    ],
)
def test_error_statuses_become_provider_errors_in_our_own_words(stand_in, status, fixture, words):
    body = openai_json(fixture)
    stand_in.then((status, body))

    with pytest.raises(ProviderError) as caught:
        complete(stand_in)

    error = caught.value
    assert type(error) is ProviderError
    assert (error.status_code, error.code) == (502, "ai_provider_error")
    assert words in error.detail
    # The provider's own message never passes through: a 401's quotes part of the key.
    assert body["error"]["message"][:30] not in error.detail


def test_a_vllm_style_string_error_body_is_handled(stand_in):
    stand_in.then((401, {"error": "Unauthorized"}))

    with pytest.raises(ProviderError, match="credentials"):
        complete(stand_in)


def test_connection_refused_is_a_provider_error(stand_in):
    stand_in.then(httpx2.ConnectError("Connection refused"))

    with pytest.raises(ProviderError) as caught:
        complete(stand_in)

    assert type(caught.value) is ProviderError
    assert "could not be reached" in caught.value.detail


def test_a_timeout_is_a_provider_timeout_504(stand_in):
    stand_in.then(httpx2.ReadTimeout("read timed out"))

    with pytest.raises(ProviderTimeout) as caught:
        complete(stand_in)

    assert (caught.value.status_code, caught.value.code) == (504, "ai_provider_timeout")


def test_a_bare_compatible_answer_is_read_with_only_the_fields_we_use(stand_in):
    # A minimal OpenAI-compatible server: no id, object, created or usage at all.
    stand_in.then({"choices": [{"message": {"content": " Kente. "}, "finish_reason": "stop"}]})

    completion = complete(stand_in)

    assert (completion.text, completion.model, completion.total_tokens) == ("Kente.", "", 0)


@pytest.mark.parametrize("bogus", ["many", "1e3", -3, 1.5, None, 2**31, [19], {"n": 19}])
def test_token_counts_that_are_not_whole_numbers_count_as_none(stand_in, bogus):
    body = openai_json("chat_completion.success.json")
    body["usage"] = {"prompt_tokens": bogus, "completion_tokens": 10, "total_tokens": bogus}
    stand_in.then(body)

    completion = complete(stand_in)

    assert (completion.prompt_tokens, completion.completion_tokens) == (0, 10)
    assert completion.total_tokens == 0


@pytest.mark.parametrize("usage", ["none", [1, 2], None])
def test_a_usage_that_is_not_an_object_counts_no_tokens(stand_in, usage):
    stand_in.then({**openai_json("chat_completion.success.json"), "usage": usage})

    completion = complete(stand_in)

    assert completion.text == "Hello! How can I assist you today?"
    assert (completion.prompt_tokens, completion.completion_tokens) == (0, 0)
    assert completion.total_tokens == 0


def test_whole_counts_sent_as_text_or_float_are_read_as_numbers(stand_in):
    # The SDK's typed usage reads "19" and 10.0 as the whole numbers they spell.
    body = openai_json("chat_completion.success.json")
    body["usage"] = {"prompt_tokens": "19", "completion_tokens": 10.0, "total_tokens": 29}
    stand_in.then(body)

    completion = complete(stand_in)

    assert (completion.prompt_tokens, completion.completion_tokens) == (19, 10)
    assert completion.total_tokens == 29


def test_a_completion_labelled_as_another_content_type_is_read_all_the_same(stand_in):
    # Some compatible servers label their JSON text/plain.
    body = json.dumps(openai_json("chat_completion.success.json"))
    stand_in.then(httpx2.Response(200, text=body, headers={"content-type": "text/plain"}))

    assert complete(stand_in).text == "Hello! How can I assist you today?"


def test_an_answer_without_the_request_id_header_has_none(stand_in):
    body = openai_json("chat_completion.success.json")
    stand_in.then(httpx2.Response(200, json=body))

    assert complete(stand_in).request_id == ""


def as_json(content: bytes) -> httpx2.Response:
    """A 200 that says it is JSON, with `content` as its body."""
    return httpx2.Response(200, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, "<html>502 Bad Gateway</html>"), "not a chat completion"),
        (as_json(b"<html>502 Bad Gateway</html>"), "not a chat completion"),
        (as_json(b""), "not a chat completion"),
        (as_json(b'{"choices": [{"message": '), "not a chat completion"),  # cut short
        (as_json(b'"\xff\xfe"'), "not a chat completion"),  # not UTF-8
        ({"unexpected": True}, "not a chat completion"),
        ([1, 2], "not a chat completion"),
        (as_json(b'"a chat completion"'), "not a chat completion"),
        ({"choices": ["text"]}, "not a chat completion"),
        ({"choices": [[1]]}, "not a chat completion"),
        ({"choices": {"0": {"message": {"content": "x"}}}}, "not a chat completion"),
        ({"choices": None}, "not a chat completion"),
        ((200, b"[" * 100_000), "not a chat completion"),  # too deep for the JSON parser
        (as_json(b"[" * 100_000), "not a chat completion"),
        ({**openai_json("chat_completion.success.json"), "choices": []}, "not a chat completion"),
        ({"choices": [{"finish_reason": "stop"}]}, "the model refused"),  # no message at all
        ({"choices": [{"message": "Kente."}]}, "the model refused"),  # not a message object
        ({"choices": [{"message": {"content": ["Kente."]}}]}, "empty"),
    ],
)
def test_garbage_is_an_unusable_answer(stand_in, answer, reason):
    stand_in.then(answer)

    with pytest.raises(UnusableAnswer) as caught:
        complete(stand_in)

    assert caught.value.reason == reason
    assert caught.value.status_code == 502


def test_the_live_recorded_answer_cut_at_the_token_limit_is_unusable(stand_in):
    body = openai_json("chat_completion.finish_length.json")
    stand_in.then(body)

    with pytest.raises(UnusableAnswer) as caught:
        complete(stand_in)

    assert caught.value.reason == "cut off at the output token limit"
    # The provider billed it all the same, so its usage is kept for cost_to_us.
    assert caught.value.completion.total_tokens == body["usage"]["total_tokens"]


def test_an_answer_withheld_by_the_content_filter_is_unusable(stand_in):
    # The shared content-filter example is a legacy text completion; its choice, moved into the
    # chat completion shape, is what a filtered chat answer looks like.
    legacy = openai_json("completion.finish_content_filter.azure_legacy_text_completion.json")
    filtered = next(c for c in legacy["choices"] if c["finish_reason"] == "content_filter")
    stand_in.then(stand_in.completion(filtered.get("text") or None, finish_reason="content_filter"))

    with pytest.raises(UnusableAnswer, match="content filter"):
        complete(stand_in)


def test_a_refusal_is_unusable(stand_in):
    body = stand_in.completion(None)
    body["choices"][0]["message"]["refusal"] = "I'm sorry, I can't help with that."
    stand_in.then(body)

    with pytest.raises(UnusableAnswer, match="refused"):
        complete(stand_in)


@pytest.mark.parametrize("content", ["", "   \n", None])
def test_an_empty_answer_is_unusable(stand_in, content):
    stand_in.then(stand_in.completion(content))

    with pytest.raises(UnusableAnswer, match="empty"):
        complete(stand_in)


def test_no_key_means_not_configured(settings):
    settings.AI_PROVIDER_API_KEY = ""

    with pytest.raises(ProviderNotConfigured):
        ProviderClient()
    with pytest.raises(ProviderNotConfigured):
        provider.provider_client()


def test_the_shared_client_is_reused_until_the_settings_change(settings):
    settings.AI_PROVIDER_API_KEY = "sk-test-one"
    first = provider.provider_client()
    assert provider.provider_client() is first

    settings.AI_PROVIDER_API_KEY = "sk-test-two"

    assert provider.provider_client() is not first


def test_cost_is_tokens_times_the_configured_usd_prices_to_six_places(settings):
    settings.AI_MODEL_INPUT_USD_PER_1M = Decimal("0.75")
    settings.AI_MODEL_OUTPUT_USD_PER_1M = Decimal("4.50")

    # The shared README's worked example: (19 x 0.75 + 10 x 4.50) / 1M = 0.00005925.
    assert cost_usd(prompt_tokens=19, completion_tokens=10) == Decimal("0.000059")
    assert cost_usd(prompt_tokens=1_000_000, completion_tokens=1_000_000) == Decimal("5.250000")
    assert cost_usd(prompt_tokens=0, completion_tokens=0) == Decimal("0.000000")


def test_nothing_secret_or_said_reaches_the_log(stand_in, caplog):
    stand_in.then((401, openai_json("error.401.invalid_api_key.json")))

    with pytest.raises(ProviderError):
        complete(stand_in)

    logged = caplog.text
    assert "sk-test-secret-do-not-leak" not in logged
    assert "CHANGE_ME" not in logged  # the key fragment the 401 message quotes
    assert "hello" not in logged  # the user message
    assert "status=401" in logged


def test_the_fixture_bodies_are_what_the_sdk_unwraps(stand_in):
    # Guard on the shared fixtures themselves: the error objects carry the codes we branch on.
    quota = openai_json("error.429.insufficient_quota.json")
    assert quota["error"]["code"] == "insufficient_quota"
    assert json.dumps(openai_json("error.500.server_error.json"))
