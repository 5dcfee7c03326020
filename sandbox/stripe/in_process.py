"""The Stripe stand-in reached in-process: an SDK transport that hands each request of the real
`stripe` SDK to this process's own Django, through the same URLs and views as /sandbox/stripe/
over HTTP. `make run` runs setup_demo before runserver listens, so the demo's catalogue sync
reaches the stand-in this way; the tests drive the stand-in through it too. Development only,
like the rest of the sandbox."""

import json
import logging
from collections.abc import Callable
from contextlib import contextmanager
from urllib.parse import urlsplit

import stripe
from django.test import Client
from requests.structures import CaseInsensitiveDict

# Where the project mounts the stand-in (pos/urls.py); STRIPE_API_BASE is a host plus this.
MOUNT = "/sandbox/stripe"
# What a failure picked by `fail_when` answers: Stripe's own 500.
FAILED = json.dumps({"error": {"type": "api_error", "message": "Something went wrong."}})
# The SDK's and the request log's INFO lines, two per call, would bury setup_demo's token.
CHATTY_LOGGERS = ("stripe", "pos.request")


def serves(api_base: str) -> bool:
    """Whether an SDK pointed at `api_base` (STRIPE_API_BASE) is talking to this stand-in."""
    return urlsplit(api_base).path.rstrip("/") == MOUNT


class InProcessHTTP(stripe.HTTPClient):
    """An SDK transport that serves each request with this process's Django.

    `client`: the Django test client that serves them: it is the in-process handler that leaves
    the caller's database connection open (a plain WSGI call would close it at
    request_finished). By default one that answers a view's exception with a 500, as a server
    would; tests pass `Client()` to have it raised instead.
    `fail_when(method, path)`: answer Stripe's 500 without reaching Django for the requests it
    picks; `path` is below the mount, query included (`/v1/prices?...`). It may be set later.
    `sent`: every request, in order, as `{method, path, headers, body}` (`path` as Django sees
    it, query included), with `failed: True` on those `fail_when` picked.
    """

    name = "in-process"

    def __init__(
        self,
        client: Client | None = None,
        *,
        fail_when: Callable[[str, str], bool] | None = None,
    ):
        super().__init__()
        self.client = client or Client(raise_request_exception=False)
        self.fail_when = fail_when or (lambda method, path: False)
        self.sent: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        """One SDK request; `(body, status, headers)` as the SDK expects."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/octet-stream")
        sent = {"method": method, "path": path, "headers": headers, "body": post_data}
        self.sent.append(sent)
        if self.fail_when(method, path.removeprefix(MOUNT)):
            sent["failed"] = True
            return FAILED, 500, CaseInsensitiveDict({"Request-Id": "req_standin_500"})
        answer = self.client.generic(
            method.upper(),
            path,
            post_data or "",
            content_type=content_type,
            headers={**headers, "Host": parts.netloc},
        )
        return answer.content, answer.status_code, CaseInsensitiveDict(answer.items())

    def writes(self) -> list[str]:
        """The POSTs that reached the stand-in, as `POST /v1/...`."""
        return [
            f"POST {sent['path'].removeprefix(MOUNT)}"
            for sent in self.sent
            if sent["method"].lower() == "post" and not sent.get("failed")
        ]

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
