"""Request headers that several endpoints read the same way."""

from pos.errors import DomainError

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    default_detail = (
        f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters of printable ASCII."
    )


def idempotency_key_from(request) -> str | None:
    """The request's `Idempotency-Key`, or None; a key too long to store whole is refused, never
    cut, since two keys cut to one would replay each other's answers."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey()
    return key
