"""The LLM provider: one client around the official `openai` SDK, for OpenAI itself or any
OpenAI-compatible chat-completions server (vLLM, Ollama, llama.cpp), configured by `AI_PROVIDER_*`.

Every failure leaves here as a ProviderError (502) or ProviderTimeout (504) with our own wording:
the provider's message can quote part of the API key (a 401 does), so it is never passed on,
stored or logged. Neither are prompts or answers.

The call is the SDK's typed `chat.completions.create`, so the SDK's contract (its auth, timeout,
retries, typed errors and typed answer) holds, and streaming can come through the same method.
The SDK builds its `ChatCompletion` without validating it: a field a compatible server leaves out
is None, and one of the wrong type is kept as it came, unless the SDK's loose coercion could read
it (a count sent as "12" is 12). So the answer is still read leniently here: the first choice's
text, finish reason and refusal, `model`, the token counts and the request id, with any other
shape an unusable answer.
"""

import functools
import json
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import openai
from django.conf import settings
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice

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
        extra = {}
        if json_schema is not None:
            extra["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        try:
            # max_tokens, not max_completion_tokens: Ollama and older servers know only this one.
            answer = self._sdk.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=settings.AI_MAX_OUTPUT_TOKENS,
                n=1,
                **extra,
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
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            # A 200 said to be JSON that is not (a proxy's page, bytes that are not text, JSON
            # too deep to parse): the SDK lets the parser's own error through.
            logger.warning("provider answer unreadable model=%s", self.model)
            raise UnusableAnswer("not a chat completion") from exc
        return _completion_checked(answer)


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


def _completion_checked(answer) -> Completion:
    """The answer's text and usage, if it is a whole, unrefused, non-empty chat completion.

    `answer` is what `create` returned: a ChatCompletion when the body was a JSON object, else
    the body as it came (text for a non-JSON page, a list, a string)."""
    choices = answer.choices if isinstance(answer, ChatCompletion) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Choice):
        logger.warning("provider answer unreadable")
        raise UnusableAnswer("not a chat completion")
    usage = answer.usage
    model = answer.model
    spent = Completion(
        text="",
        model=(model if isinstance(model, str) else "")[:100],
        prompt_tokens=_count(getattr(usage, "prompt_tokens", None)),
        completion_tokens=_count(getattr(usage, "completion_tokens", None)),
        total_tokens=_count(getattr(usage, "total_tokens", None)),
        # The x-request-id header, which the SDK documents as `_request_id`.
        request_id=(getattr(answer, "_request_id", None) or "")[:100],
    )
    choice = choices[0]
    message = choice.message
    if choice.finish_reason == "content_filter":
        raise UnusableAnswer("withheld by the provider's content filter", completion=spent)
    if not isinstance(message, ChatCompletionMessage) or message.refusal:
        raise UnusableAnswer("the model refused", completion=spent)
    if choice.finish_reason == "length":
        raise UnusableAnswer("cut off at the output token limit", completion=spent)
    content = message.content
    text = content.strip() if isinstance(content, str) else ""
    if not text:
        raise UnusableAnswer("empty", completion=spent)
    return Completion(**{**spent.__dict__, "text": text})


# The largest count the usage row's token columns hold.
MAX_TOKENS = 2**31 - 1


def _count(value) -> int:
    """A token count as read; anything but a whole number from 0 to MAX_TOKENS counts as none
    (a larger one could not be recorded, and no call uses that many)."""
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
