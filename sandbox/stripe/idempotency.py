"""Stripe's `Idempotency-Key` on POSTs: the first answer for a key is kept and replayed for
repeats with the same parameters; the same key with other parameters is an `idempotency_error`.

The key is claimed in its own transaction before the work starts, so a concurrent repeat finds
it and gets 409 (which the SDK retries) instead of doing the work twice. The answer is stored in
the work's own transaction: if the work commits, so does its answer.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from sandbox.stripe.forms import StripeError
from sandbox.stripe.models import StripeSandboxIdempotencyKey

KEY_MAX = 255


@dataclass(frozen=True)
class Answer:
    """An API answer: status and JSON text; `replay_of` is the first request's id on a replay."""

    status: int
    body: str
    replay_of: str | None = None


def fingerprint(*, method: str, path: str, items: list[tuple[str, list[str]]]) -> str:
    """What makes two requests the same: method, path and parameters, in any order."""
    canonical = json.dumps([method, path, sorted(items)], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _error_answer(exc: StripeError) -> Answer:
    return Answer(exc.http_status, json.dumps(exc.body()))


def _claim(*, key: str, print_: str, request_id: str) -> Answer | None:
    """Claim `key` for this request; an Answer (replay or refusal) when it was claimed before."""
    try:
        with transaction.atomic():
            StripeSandboxIdempotencyKey.objects.create(
                key=key, fingerprint=print_, request_id=request_id
            )
        return None
    except IntegrityError:
        pass
    first = StripeSandboxIdempotencyKey.objects.filter(key=key).first()
    if first is None:  # the first request failed validation and let the key go meanwhile
        return _claim(key=key, print_=print_, request_id=request_id)
    if first.fingerprint != print_:
        return _error_answer(
            StripeError(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        )
    if first.status_code is None:
        return _error_answer(
            StripeError(
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                "going through). Please retry this request later.",
                http_status=409,
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        )
    return Answer(first.status_code, first.body, replay_of=first.request_id)


def run(
    *,
    key: str | None,
    print_: str,
    request_id: str,
    work: Callable[[], dict],
    status: int = 200,
) -> Answer:
    """Run `work` (which returns the answer's JSON object or raises StripeError) in one
    transaction, once per idempotency key."""
    if key is None:
        try:
            with transaction.atomic():
                return Answer(status, json.dumps(work()))
        except StripeError as exc:
            return _error_answer(exc)
    if len(key) > KEY_MAX:
        return _error_answer(
            StripeError(
                f"Idempotency keys can be at most {KEY_MAX} characters long.",
                type="idempotency_error",
            )
        )
    earlier = _claim(key=key, print_=print_, request_id=request_id)
    if earlier is not None:
        return earlier
    rows = StripeSandboxIdempotencyKey.objects.filter(key=key)
    try:
        with transaction.atomic():
            answer = Answer(status, json.dumps(work()))
            rows.update(status_code=answer.status, body=answer.body)
            return answer
    except StripeError as exc:
        answer = _error_answer(exc)
        if exc.saved:
            rows.update(status_code=answer.status, body=answer.body)
        else:  # refused before it ran: the same key may be used again
            rows.delete()
        return answer
    except BaseException:
        # A bug in the stand-in is not an answer worth replaying: free the key, let it surface.
        rows.delete()
        raise
