"""One log line per request, tagged with a request id that every log line of the request shares
and that the answer carries back as `X-Request-ID`."""

import contextvars
import logging
import re
import time
import uuid

logger = logging.getLogger("pos.request")
_request_id = contextvars.ContextVar("request_id", default="-")
SAFE_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, so the log format can show it."""

    def filter(self, record):
        # Django logs a 4xx/5xx answer after the middleware is done; it attaches the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        return True


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SAFE_INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            # The path only: query strings can carry references and filters, never worth logging.
            logger.info(
                "%s %s %s %.0fms user=%s",
                request.method,
                request.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                _user_id(request),
            )
            return response
        finally:
            _request_id.reset(token)


def _user_id(request) -> str:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else "-"
