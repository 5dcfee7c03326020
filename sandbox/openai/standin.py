"""A stand-in for an OpenAI-compatible chat-completions server, so `make run` needs no provider
key: a deterministic answer made from the input, in the real API's shape, with a realistic usage.

Markers in the user's text make it fail the way providers do, for trying the error paths:
`[sandbox:500]`, `[sandbox:429]`, `[sandbox:refuse]` and `[sandbox:garbage]`.

`[sandbox:slow=N]` makes it wait N seconds (a whole or decimal number, at most
MAX_SLOW_SECONDS) before it answers, as a slow provider does, so a feature call stays pending
with its credits on hold meanwhile. It combines with the others: the wait comes first, then the
answer or the failure (`[sandbox:slow=12][sandbox:500]` answers 500 after 12 seconds).
"""

import hashlib
import json
import math
import re
import time
from decimal import Decimal, InvalidOperation

from pos.jsonsafe import json_loads


class StandInError(Exception):
    """An answer other than a completion: an HTTP status and its body (text or JSON)."""

    def __init__(self, status: int, body):
        super().__init__(status)
        self.status = status
        self.body = body


def _error(status: int, message: str, type_: str, code: str | None) -> StandInError:
    return StandInError(
        status, {"error": {"message": message, "type": type_, "param": None, "code": code}}
    )


FAILURES = {
    "[sandbox:500]": lambda: _error(
        500, "The server had an error while processing your request.", "server_error", None
    ),
    "[sandbox:429]": lambda: _error(
        429,
        "Rate limit reached for requests. Please try again in 20s.",
        "requests",
        "rate_limit_exceeded",
    ),
    "[sandbox:garbage]": lambda: StandInError(200, "<html>upstream proxy error</html>"),
}


MAX_SLOW_SECONDS = 30
SLOW_MARKER = re.compile(r"\[sandbox:slow=(\d{1,6}(?:\.\d{1,3})?)\]")


def slow_seconds(user_text: str) -> float:
    """The wait the first `[sandbox:slow=N]` asks for, at most MAX_SLOW_SECONDS; 0 without one."""
    found = SLOW_MARKER.search(user_text)
    return min(float(found[1]), MAX_SLOW_SECONDS) if found else 0.0


def pause(seconds: float) -> None:
    """Wait as a slow provider does (tests replace it, so that they need not wait)."""
    time.sleep(seconds)


def tokens_in(text: str) -> int:
    """About four characters a token, as OpenAI's tokenizers average on English text."""
    return max(1, math.ceil(len(text) / 4))


def completion_for(body) -> dict:
    """The chat completion answering `body`, or a StandInError."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise _error(400, "you must provide a model parameter", "invalid_request_error", None)
    messages = body.get("messages")
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
    ):
        raise _error(400, "'messages' must be a non-empty list", "invalid_request_error", None)
    user_text = "\n".join(m["content"] for m in messages if m.get("role") == "user")
    if delay := slow_seconds(user_text):
        pause(delay)
    for marker, failure in FAILURES.items():
        if marker in user_text:
            raise failure()
    wants_json = isinstance(body.get("response_format"), dict)
    refused = "[sandbox:refuse]" in user_text
    content = None if refused else (_insight(user_text) if wants_json else _description(user_text))
    prompt_tokens = sum(tokens_in(m["content"]) for m in messages)
    completion_tokens = tokens_in(content or "I can't help with that.")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {
        "id": f"chatcmpl-sandbox{digest[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": "I can't help with that." if refused else None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_sandbox",
    }


def _fields(user_text: str) -> dict:
    try:
        fields = json_loads(user_text)  # too deep: a ValueError
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) else {}


OPENINGS = {
    "professional": "Meet the {name}",
    "friendly": "Say hello to the {name}",
    "playful": "Guess what just landed? The {name}",
}


def _description(user_text: str) -> str:
    fields = _fields(user_text)
    name = str(fields.get("product_name") or "product").strip()
    opening = OPENINGS.get(fields.get("tone"), OPENINGS["professional"]).format(name=name)
    category = str(fields.get("category") or "").strip()
    features = [str(item) for item in fields.get("features") or [] if str(item).strip()]
    sentences = [opening + (f", a standout in {category.lower()}." if category else ".")]
    if features:
        sentences.append(
            "It comes "
            + ", ".join(features[:-1])
            + (" and " if features[1:] else "")
            + features[-1]
            + "."
        )
    sentences.append(f"Customers pick the {name} for everyday value they can count on.")
    sentences.append("Ask in store or order today.")
    words = " ".join(sentences).split()
    limit = fields.get("max_words") if isinstance(fields.get("max_words"), int) else 120
    return " ".join(words[: max(limit, 1)])


def _insight(user_text: str) -> str:
    fields = _fields(user_text)
    lines = [line for line in fields.get("purchases") or [] if isinstance(line, dict)]
    total = Decimal(0)
    for line in lines:
        try:
            total += Decimal(str(line.get("amount", "0")))
        except InvalidOperation:
            continue
    dates = sorted(str(line.get("date", "")) for line in lines if line.get("date"))
    items = sorted({str(line.get("item", "")).strip() for line in lines} - {""})
    who = str(fields.get("customer_name") or "This customer").strip()
    visits = len(lines)
    segment = "new" if visits <= 1 else "loyal" if visits >= 6 else "regular"
    if total >= 1000:
        segment = "high_value"
    summary = (
        f"{who} made {visits} purchase{'s' if visits != 1 else ''} totalling GHS {total:.2f}"
        + (f" between {dates[0]} and {dates[-1]}" if len(dates) > 1 else "")
        + f", mostly {', '.join(items[:3]) or 'assorted items'}."
    )
    top = items[0] if items else "their favourite items"
    recommendations = [
        f"Keep {top} in stock and tell {who} when it is back.",
        "Offer a small loyalty reward on the next mobile money payment.",
    ]
    if segment == "new":
        recommendations.append("Send a thank-you message with a welcome-back discount.")
    return json.dumps({"summary": summary, "segment": segment, "recommendations": recommendations})
