"""Maps every API error to `{"detail", "code"}` (field validation keeps DRF's field shape); a
database that cannot be reached is 503 `database_unavailable` (pos.database)."""

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from pos.database import database_unavailable_logged, is_database_unavailable
from pos.errors import DatabaseUnavailable, DomainError


def api_exception_handler(exc, context):
    if is_database_unavailable(exc):  # raised in authentication, a throttle or the view
        exc = database_unavailable_logged(context["request"], exc)
    if isinstance(exc, DomainError):
        set_rollback()
        body = {**exc.extra, "detail": exc.detail, "code": exc.code}
        response = Response(body, status=exc.status_code)
        if isinstance(exc, DatabaseUnavailable):
            response["Retry-After"] = str(exc.retry_after_seconds)
            response._has_been_logged = True  # noqa: SLF001 (Django's flag: logged above)
        return response

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return response
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = detail.code if hasattr(detail, "code") else exc.default_code
        response.data = {"detail": str(detail), "code": code}
    return response
