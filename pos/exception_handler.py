"""Maps every API error to `{"detail", "code"}` (field validation keeps DRF's field shape)."""

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from pos.errors import DomainError


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        body = {**exc.extra, "detail": exc.detail, "code": exc.code}
        return Response(body, status=exc.status_code)

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
