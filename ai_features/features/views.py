from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.response import Response

from accounts.services import business_for_request
from ai_features.features import openapi
from ai_features.features.serializers import (
    CustomerInsightInputSerializer,
    CustomerInsightOutputSerializer,
    FeatureOutputSerializer,
    ProductDescriptionInputSerializer,
    ProductDescriptionOutputSerializer,
)
from ai_features.features.services import feature_run, features_list
from ai_features.features.throttling import AIFeatureThrottle
from pos.headers import idempotency_key_from


@extend_schema(**openapi.FEATURES)
@api_view(["GET"])
def features(request):
    return Response(FeatureOutputSerializer(features_list(), many=True).data)


def _run(request, *, feature: str, input_serializer, output_serializer) -> Response:
    business = business_for_request(request)
    key = idempotency_key_from(request)
    data = input_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    answer = feature_run(
        business=business,
        user=request.user,
        feature=feature,
        data=data.validated_data,
        idempotency_key=key,
    )
    return Response(output_serializer(answer).data)


@extend_schema(**openapi.PRODUCT_DESCRIPTION)
@api_view(["POST"])
@throttle_classes([AIFeatureThrottle])
def product_description(request):
    return _run(
        request,
        feature="product_description",
        input_serializer=ProductDescriptionInputSerializer,
        output_serializer=ProductDescriptionOutputSerializer,
    )


@extend_schema(**openapi.CUSTOMER_INSIGHT)
@api_view(["POST"])
@throttle_classes([AIFeatureThrottle])
def customer_insight(request):
    return _run(
        request,
        feature="customer_insight",
        input_serializer=CustomerInsightInputSerializer,
        output_serializer=CustomerInsightOutputSerializer,
    )
