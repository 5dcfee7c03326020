"""The sandbox's Stripe stand-in reached in-process. `make run` runs setup_demo before runserver
listens, so the demo's catalogue sync cannot reach /sandbox/stripe/ over HTTP yet; this hands
each SDK request to this process's own Django instead, through the same URLs and views."""

import logging
from contextlib import contextmanager
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.test import Client
from requests.structures import CaseInsensitiveDict

SANDBOX_PATH = "/sandbox/stripe"
# The SDK's and the request log's INFO lines, two per call, would bury setup_demo's token.
CHATTY_LOGGERS = ("stripe", "pos.request")


def stripe_is_local_sandbox() -> bool:
    """Whether STRIPE_API_BASE is this project's own stand-in (as `make run` sets it)."""
    base = urlsplit(settings.STRIPE_API_BASE)
    return bool(settings.SANDBOX) and base.path.rstrip("/") == SANDBOX_PATH


class InProcessHTTP(stripe.HTTPClient):
    """An SDK transport that serves each request with this process's Django."""

    name = "in-process"

    def __init__(self):
        super().__init__()
        # Django's test client, because it is the in-process handler that leaves the caller's
        # database connection open (a plain WSGI call would close it at request_finished).
        self._client = Client(raise_request_exception=False)

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        """One SDK request; `(body, status, headers)` as the SDK expects."""
        parts = urlsplit(url)
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/octet-stream")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        answer = self._client.generic(
            method.upper(),
            path,
            post_data or "",
            content_type=content_type,
            headers={**headers, "Host": parts.netloc},
        )
        return answer.content, answer.status_code, CaseInsensitiveDict(answer.items())

    def close(self):
        """Nothing to close: no connection was opened."""


@contextmanager
def chatty_loggers_quiet():
    """Warnings and errors only from the SDK and the request log, for the block's length."""
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
