"""The LLM provider: one client around the official `openai` SDK, for OpenAI itself or any
OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp), configured by `AI_PROVIDER_*`.

Every failure leaves here as a ProviderError (502) or ProviderTimeout (504) with our own wording:
the provider's message can quote part of the API key (a 401 does), so it is never passed on,
stored or logged. Neither are prompts or answers.

The call goes through the SDK's own `post` (its documented way to send a request it has no
method for): the same client, auth, timeout, retries and typed errors as
`chat.completions.create`, without that method's walk over every parameter's type and its
typed model of the answer, which together cost about 2 ms of CPU a call, more than the rest of
a metered feature call's Python. The answer is read here instead, leniently: the few fields we
use, with any other shape an unusable answer (OpenAI-compatible servers differ in the rest).
"""

import functools
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import httpx2
import openai
from django.conf import settings

from ai_features.errors import ProviderError, ProviderNotConfigured, ProviderTimeout

logger = logging.getLogger(__name__)
USD_PLACES = Decimal("0.000001")
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Completion:
    """A usable answer and what it cost in tokens."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    request_id: str

    @property
    def cost_usd(self) -> Decimal:
        return cost_usd(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


class UnusableAnswer(ProviderError):
    """The provider answered, and was paid for it, but the answer cannot be used."""

    def __init__(self, reason: str, *, completion: Completion | None = None):
        super().__init__(
            f"The AI provider's answer could not be used ({reason}). No credits were taken."
        )
        self.reason = reason
        self.completion = completion


def cost_usd(*, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """What the provider charges for a call, at the configured USD prices per million tokens.

    Cached prompt tokens are billed at the full input price: an upper bound, since not every
    provider reports them and the operator configures one input price."""
    total = (
        prompt_tokens * settings.AI_MODEL_INPUT_USD_PER_1M
        + completion_tokens * settings.AI_MODEL_OUTPUT_USD_PER_1M
    ) / MILLION
    return total.quantize(USD_PLACES, rounding=ROUND_HALF_UP)


class ProviderClient:
    """One method per provider call. `http_client` lets tests hand the SDK a mock transport."""

    def __init__(self, *, http_client=None):
        if not settings.AI_PROVIDER_API_KEY:
            raise ProviderNotConfigured()
        self.model = settings.AI_MODEL
        self._sdk = openai.OpenAI(
            api_key=settings.AI_PROVIDER_API_KEY,
            base_url=settings.AI_PROVIDER_BASE_URL,
            timeout=settings.AI_PROVIDER_TIMEOUT_SECONDS,
            max_retries=settings.AI_PROVIDER_MAX_RETRIES,
            http_client=http_client,
        )

    def chat_complete(self, *, messages: list[dict], json_schema: dict | None = None) -> Completion:
        """One chat completion; its text, or a ProviderError saying why there is none."""
        # max_tokens, not max_completion_tokens: Ollama and older servers know only this one.
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": settings.AI_MAX_OUTPUT_TOKENS,
            "n": 1,
        }
        if json_schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        try:
            answer = self._sdk.post(
                "/chat/completions", cast_to=httpx2.Response, body=body, options=BEARER
            )
        except openai.APITimeoutError as exc:
            logger.warning("provider timeout model=%s", self.model)
            raise ProviderTimeout() from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc) from exc
        except openai.APIConnectionError as exc:
            logger.warning("provider unreachable model=%s", self.model)
            raise ProviderError(
                "The AI provider could not be reached. No credits were taken."
            ) from exc
        except openai.OpenAIError as exc:
            logger.warning("provider call failed model=%s error=%s", self.model, type(exc).__name__)
            detail = "The AI provider could not be called. No credits were taken."
            raise ProviderError(detail) from exc
        return _completion_checked(answer)


# What chat.completions.create asks the client for: the API key as a bearer token.
BEARER = {"security": {"bearer_auth": True}}


# Our words for the statuses a client can act on; the provider's own message is never shown.
STATUS_DETAILS = {
    401: "The AI provider refused this server's credentials.",
    403: "The AI provider refused this server's credentials.",
    429: "The AI provider is busy or over its quota. Please try again shortly.",
}


def _status_error(exc: openai.APIStatusError) -> ProviderError:
    code = exc.code if isinstance(exc.code, str) else None
    logger.warning(
        "provider error status=%s code=%s request_id=%s",
        exc.status_code,
        (code or "-")[:60],
        (exc.request_id or "-")[:100],
    )
    detail = STATUS_DETAILS.get(exc.status_code)
    if exc.status_code == 429 and code == "insufficient_quota":
        detail = "The AI provider's quota for this server is used up."
    detail = detail or f"The AI provider answered with an error ({exc.status_code})."
    return ProviderError(f"{detail} No credits were taken.")


def _completion_checked(response: httpx2.Response) -> Completion:
    """The answer's text and usage, if it is a whole, unrefused, non-empty chat completion."""
    try:
        answer = response.json()
    except (ValueError, RecursionError):  # a proxy's HTML page with a 200; absurdly deep JSON
        answer = None
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        logger.warning("provider answer unreadable status=%s", response.status_code)
        raise UnusableAnswer("not a chat completion")
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
    model = answer.get("model")
    spent = Completion(
        text="",
        model=(model if isinstance(model, str) else "")[:100],
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        total_tokens=_count(usage.get("total_tokens")),
        request_id=(response.headers.get("x-request-id") or "")[:100],
    )
    choice = choices[0]
    message = choice.get("message")
    if choice.get("finish_reason") == "content_filter":
        raise UnusableAnswer("withheld by the provider's content filter", completion=spent)
    if not isinstance(message, dict) or message.get("refusal"):
        raise UnusableAnswer("the model refused", completion=spent)
    if choice.get("finish_reason") == "length":
        raise UnusableAnswer("cut off at the output token limit", completion=spent)
    content = message.get("content")
    text = content.strip() if isinstance(content, str) else ""
    if not text:
        raise UnusableAnswer("empty", completion=spent)
    return Completion(**{**spent.__dict__, "text": text})


# The largest count the usage row's token columns hold.
MAX_TOKENS = 2**31 - 1


def _count(value) -> int:
    """A token count as reported; anything but a whole number from 0 to MAX_TOKENS counts as
    none (a larger one could not be recorded, and no call uses that many)."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    return value if whole and 0 < value <= MAX_TOKENS else 0


@functools.cache
def _shared_client(base_url: str, api_key: str, model: str, timeout: float, retries: int):
    """One client per configuration, so its connection pool is reused across requests."""
    return ProviderClient()


def provider_client() -> ProviderClient:
    """The client for the current settings."""
    if not settings.AI_PROVIDER_API_KEY:
        raise ProviderNotConfigured()
    return _shared_client(
        settings.AI_PROVIDER_BASE_URL,
        settings.AI_PROVIDER_API_KEY,
        settings.AI_MODEL,
        settings.AI_PROVIDER_TIMEOUT_SECONDS,
        settings.AI_PROVIDER_MAX_RETRIES,
    )
