from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.response import Response

from accounts.services import business_for_request
from ai_features.features import openapi
from ai_features.features.base import Feature
from ai_features.features.serializers import FeatureOutputSerializer
from ai_features.features.services import feature_run, features_list
from ai_features.features.throttling import AIFeatureThrottle
from pos.headers import idempotency_key_from


@extend_schema(**openapi.FEATURES)
@api_view(["GET"])
def features(request):
    return Response(FeatureOutputSerializer(features_list(), many=True).data)


def feature_view(feature: Feature):
    """The POST endpoint of one feature: its input, its throttle, its metered call, its answer."""

    def run(request) -> Response:
        business = business_for_request(request)
        key = idempotency_key_from(request)
        data = feature.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = feature_run(
            business=business,
            user=request.user,
            feature=feature,
            data=data.validated_data,
            idempotency_key=key,
        )
        return Response(feature.output_serializer(answer).data)

    run.__name__ = run.__qualname__ = feature.code
    return extend_schema(**openapi.feature_schema(feature))(
        api_view(["POST"])(throttle_classes([AIFeatureThrottle])(run))
    )
