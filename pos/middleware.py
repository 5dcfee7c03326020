"""Request-level middleware: one log line per request, tagged with a request id that every log
line of the request shares and that the answer carries back as `X-Request-ID`; the cap on request
bodies; and which proxies may say a request came over HTTPS."""

import contextvars
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils.functional import empty

from pos.errors import RequestTooLarge
from pos.logsafe import loggable

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
                loggable(request.path, limit=200),  # %0A in a URL is a newline in the path
                response.status_code,
                (time.monotonic() - started) * 1000,
                _user_id(request),
            )
            return response
        finally:
            _request_id.reset(token)


def _user_id(request) -> str:
    user = getattr(request, "user", None)
    if getattr(user, "_wrapped", None) is empty:
        # Django's lazy user, never read by the view: loading it only to log it would query the
        # session, and fail this line too when the database is down (pos.database).
        return "-"
    return str(user.pk) if user is not None and user.is_authenticated else "-"


class RequestSizeLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets 413 in the API's error shape, on every path:
    refused by its Content-Length before a byte is read, or, without one (a chunked body), by
    reading it, which Django stops one byte past the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH", "").strip()
        try:
            if declared:
                if int(declared) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                    return _too_large()
            else:
                request.body  # noqa: B018 (read now, so the limit applies before any view)
        except RequestDataTooBig:
            return _too_large()
        except ValueError:  # a Content-Length that is no number: Django reads no body then
            pass
        return self.get_response(request)

    def process_exception(self, request, exception):
        # A Content-Length that understates the body (possible under ASGI) is caught on reading.
        if isinstance(exception, RequestDataTooBig):
            return _too_large()
        return None


def _too_large() -> JsonResponse:
    error = RequestTooLarge()
    return JsonResponse({"detail": error.detail, "code": error.code}, status=error.status_code)


class TrustedProxyMiddleware:
    """Drops X-Forwarded-Proto unless the peer is a proxy listed in FORWARDED_ALLOW_IPS, so no
    client can pass a plain-HTTP request off as HTTPS (SECURE_PROXY_SSL_HEADER believes it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = _networks(settings.FORWARDED_ALLOW_IPS)

    def __call__(self, request):
        header = settings.SECURE_PROXY_SSL_HEADER[0]
        if header in request.META and not _is_trusted(
            request.META.get("REMOTE_ADDR"), self.trusted
        ):
            del request.META[header]
        return self.get_response(request)


def _networks(allowed: list[str]):
    """`*` trusts every peer (None); otherwise the listed addresses and networks."""
    if "*" in allowed:
        return None
    return [ipaddress.ip_network(item) for item in allowed]  # as strict as gunicorn's parse


def _is_trusted(peer: str | None, trusted) -> bool:
    if trusted is None:
        return True
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:  # a Unix socket or nothing at all: not a listed proxy
        return False
    return any(address in network for network in trusted)
