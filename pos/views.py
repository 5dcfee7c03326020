import sys

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from pos.database import database_unavailable_response, is_database_unavailable
from pos.errors import DatabaseUnavailable
from pos.paths import JSON_ERROR_PREFIXES

HEALTH = inline_serializer(
    "Health", fields={"status": serializers.CharField(), "database": serializers.CharField()}
)


@extend_schema(auth=[], responses={200: HEALTH, 503: HEALTH}, tags=["health"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def healthz(request):
    """For load balancers: 200 while the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        unavailable = Response({"status": "unavailable", "database": "unreachable"}, status=503)
        unavailable["Retry-After"] = str(DatabaseUnavailable.retry_after_seconds)
        return unavailable
    return Response({"status": "ok", "database": "ok"})


def not_found(request, exception=None):
    """Unknown URLs under the API (JSON_ERROR_PREFIXES) answer in the API's error shape, not
    Django's HTML page."""
    if request.path.startswith(JSON_ERROR_PREFIXES):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """Django's 500 handler, called while it handles the exception: one raised by a middleware
    or a view outside DRF. A database that cannot be reached is 503 there too (pos.database);
    under the API (JSON_ERROR_PREFIXES) the answer is in its error shape."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request, sys.exc_info()[1])
    if request.path.startswith(JSON_ERROR_PREFIXES):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
