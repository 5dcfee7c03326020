"""Shared pieces of the OpenAPI description: the error shape and the common answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Field validation failed: `{"field": ["message", ...]}` (DRF\'s shape), or '
    '`{"detail", "code"}` for a rule that is not about one field.',
)
UNAUTHENTICATED = error(
    "No token, or an invalid one (`not_authenticated`, `authentication_failed`)."
)
THROTTLED = error("Too many requests (`throttled`); the `Retry-After` header says when to retry.")

BUSINESS_HEADER = OpenApiParameter(
    "X-Business-ID",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=False,
    description="Which business to act for; required when the user belongs to several.",
)
BUSINESS_ERRORS = {
    400: error(
        "X-Business-ID is missing for a user in several businesses "
        "(`business_selection_required`) or is not a number (`invalid_business_id`)."
    ),
    401: UNAUTHENTICATED,
    403: error("The user belongs to no business (`no_business`)."),
    404: error("X-Business-ID names a business the user is not in (`business_not_found`)."),
}
PAGING = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 20, max 100)."),
    OpenApiParameter(
        "offset",
        OpenApiTypes.INT,
        description="Rows to skip. offset + limit past 10,000 is 400 `offset_too_deep`: read "
        "deeper pages by `cursor`.",
    ),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description="Walk on from a page: an answer's `next_cursor`, or the cursor in its "
        "`next`/`previous` URL. Rows added meanwhile are not shown; none is shown twice.",
    ),
]


def paginated(serializer_class, name: str):
    """DRF's limit-offset envelope around a list of `serializer_class`, with the capped count
    and the cursor (pos.pagination)."""
    return inline_serializer(
        name,
        fields={
            "count": serializers.IntegerField(help_text="Exact up to 10,000; then 10,000."),
            "count_capped": serializers.BooleanField(help_text="Whether there are more."),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
        },
    )


def business_scoped(*, responses: dict, parameters=(), **extra) -> dict:
    """The schema of an endpoint that acts for the request's business. Its own 400 answers, if
    any, must also describe the business-selection errors (they are `{"detail", "code"}`)."""
    return {
        "parameters": [BUSINESS_HEADER, *parameters],
        "responses": {**BUSINESS_ERRORS, **responses},
        **extra,
    }


def public_endpoints_only(endpoints):
    """The schema describes this service's API, not the local Paystack sandbox."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/sandbox/")]
