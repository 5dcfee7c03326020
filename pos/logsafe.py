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


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """Who django-axes says failed or was locked out, for its log lines: the address and path
    only (the username stays out of the logs, as axes does by default), each `loggable`."""
    return f"ip={loggable(ip_address or '-')} path={loggable(path_info or '-', limit=200)}"
