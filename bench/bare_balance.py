"""The yardstick for the balance GET: a bare DRF view (stock TokenAuthentication, one balance row
read by business id), served by the app's own gunicorn beside the app.

The URLconf of bench/bare_settings.py (with bench/ on the path): it mounts the app unchanged and
adds the bare view under /ai/api/, so the view passes through the same middleware as the app's
API. Only bench/balance_http.py loads it; the app never does.
"""

from django.db import connection
from django.urls import include, path
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

BARE_PATH = "/ai/api/bench-bare-balance/"


@api_view(["GET"])
@authentication_classes([TokenAuthentication])
@permission_classes([IsAuthenticated])
def bare_balance(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT balance, expires_at FROM business_ai_credits "
            "WHERE business_id = %s AND is_active LIMIT 1",
            [int(request.GET["business"])],
        )
        balance, expires_at = cursor.fetchone()
    return Response({"balance": balance, "expires_at": expires_at, "is_active": True})


urlpatterns = [
    path(BARE_PATH.lstrip("/"), bare_balance),
    path("", include("pos.urls")),
]
