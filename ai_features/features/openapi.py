"""The OpenAPI description of the AI feature endpoints."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ai_features.features.base import Feature
from ai_features.features.serializers import FeatureOutputSerializer, InsufficientCreditsSerializer
from pos.openapi import FIELD_ERRORS, THROTTLED, UNAUTHENTICATED, business_scoped, error

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeat within 24 hours with the same key and body: the stored answer again, "
    "with no second charge and no second provider call. Same key, other body: 409. At most "
    "255 characters.",
)
FEATURE_ERRORS = {
    400: FIELD_ERRORS,
    402: OpenApiResponse(
        InsufficientCreditsSerializer,
        description="Not enough credits (`insufficient_credits`) or they expired "
        "(`credits_expired`). Nothing was sent to the provider.",
    ),
    403: error(
        "The user belongs to no business (`no_business`), or the feature is turned off "
        "(`feature_disabled`)."
    ),
    409: error("Idempotency-Key reused with another body, or still in progress."),
    429: THROTTLED,
    502: error("The provider failed or its answer was unusable (`ai_provider_error`); no charge."),
    503: error("No provider is configured (`ai_provider_not_configured`); no charge."),
    504: error("The provider did not answer in time (`ai_provider_timeout`); no charge."),
}

FEATURES = {"responses": {200: FeatureOutputSerializer(many=True), 401: UNAUTHENTICATED}}


def feature_schema(feature: Feature) -> dict:
    """The schema of one feature's endpoint, from its declaration."""
    return business_scoped(
        request=feature.input_serializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: feature.output_serializer, **FEATURE_ERRORS},
        examples=[feature.example] if feature.example else [],
    )
