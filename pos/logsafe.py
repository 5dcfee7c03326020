"""Values from outside (gateway payloads, request paths) as a log line may show them."""

import re

PLAIN = re.compile(r"[A-Za-z0-9._:/@+=-]+")
LIMIT = 80


def loggable(value, limit: int = LIMIT) -> str:
    """One log token that can neither start a line of its own nor pass for another field.

    Plain values (a reference, an amount, an event name) show as they are; anything else is
    quoted with control and other unprintable characters escaped, as `repr` does. Either way it
    is cut to `limit` characters first, so a huge value cannot flood the log."""
    text = value if isinstance(value, str) else repr(value)
    cut = len(text) > limit
    text = text[:limit]
    shown = text if PLAIN.fullmatch(text) else repr(text)
    return shown + "..." if cut else shown
