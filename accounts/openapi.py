from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from accounts.serializers import (
    BusinessOutputSerializer,
    MeOutputSerializer,
    RegisterInputSerializer,
    TokenInputSerializer,
    UserOutputSerializer,
)
from pos.openapi import FIELD_ERRORS, THROTTLED, UNAUTHENTICATED

TOKEN = inline_serializer("Token", fields={"token": serializers.CharField()})

REGISTER = {
    "auth": [],
    "request": RegisterInputSerializer,
    "responses": {
        201: inline_serializer(
            "Registered",
            fields={
                "token": serializers.CharField(),
                "user": UserOutputSerializer(),
                "business": BusinessOutputSerializer(),
            },
        ),
        400: FIELD_ERRORS,
        429: THROTTLED,
    },
    "tags": ["accounts"],
}
TOKEN_OBTAIN = {
    "auth": [],
    "request": TokenInputSerializer,
    "responses": {
        200: TOKEN,
        400: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description='Wrong username or password: `{"detail", "code": "invalid_credentials"}`;'
            " or DRF field errors.",
        ),
        429: THROTTLED,
    },
    "tags": ["accounts"],
}
LOGOUT = {
    "request": None,
    "responses": {204: OpenApiResponse(description="Token deleted."), 401: UNAUTHENTICATED},
    "tags": ["accounts"],
}
ME = {"responses": {200: MeOutputSerializer, 401: UNAUTHENTICATED}, "tags": ["accounts"]}
