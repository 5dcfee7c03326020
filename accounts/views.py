from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import openapi, services
from accounts.serializers import (
    BusinessOutputSerializer,
    MeOutputSerializer,
    RegisterInputSerializer,
    TokenInputSerializer,
    UserOutputSerializer,
)
from accounts.throttling import LoginThrottle, RegisterThrottle


@extend_schema(**openapi.REGISTER)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([RegisterThrottle])
def register(request):
    data = RegisterInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    token, business = services.business_register(**data.validated_data)
    body = {
        "token": token.key,
        "user": UserOutputSerializer(token.user).data,
        "business": BusinessOutputSerializer(business).data,
    }
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(**openapi.TOKEN_OBTAIN)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([LoginThrottle])
def token(request):
    data = TokenInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    token = services.token_obtain(request=request, **data.validated_data)
    return Response({"token": token.key})


@extend_schema(**openapi.LOGOUT)
@api_view(["POST"])
def logout(request):
    services.token_revoke(user=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(**openapi.ME)
@api_view(["GET"])
def me(request):
    return Response(MeOutputSerializer(request.user).data)
