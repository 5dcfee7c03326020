"""The buying endpoints: packages, purchase, verify, purchase history and the webhooks."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from accounts.services import business_for_request
from ai_features.payments import openapi
from ai_features.payments.errors import GatewayError
from ai_features.payments.fulfilment import Outcome, purchase_verify
from ai_features.payments.packages import packages_active
from ai_features.payments.purchases import purchase_start, purchases_list
from ai_features.payments.serializers import (
    PURCHASE_STARTED_ANSWERS,
    AdminPurchaseOutputSerializer,
    PackageOutputSerializer,
    PurchaseInputSerializer,
    PurchaseOutputSerializer,
    PurchaseStatusFilterSerializer,
    VerifyInputSerializer,
)
from ai_features.payments.throttling import PurchaseThrottle, VerifyThrottle
from ai_features.payments.webhooks import webhook_receive
from pos.headers import idempotency_key_from
from pos.pagination import paginated
from pos.throttling import client_ip


@extend_schema(**openapi.PACKAGES)
@api_view(["GET"])
def packages(request):
    return Response(PackageOutputSerializer(packages_active(), many=True).data)


@extend_schema(**openapi.PURCHASE)
@api_view(["POST"])
@throttle_classes([PurchaseThrottle])
def purchase(request):
    business = business_for_request(request)
    data = PurchaseInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    started = purchase_start(
        business=business,
        user=request.user,
        idempotency_key=idempotency_key_from(request),
        **data.validated_data,
    )
    answer = PURCHASE_STARTED_ANSWERS[started.gateway](started)
    return Response(answer.data, status=status.HTTP_201_CREATED)


VERIFY_ANSWERS = {
    Outcome.CREDITED: (200, "success", "Payment verified and credits added successfully"),
    Outcome.ALREADY_PROCESSED: (200, "success", "Payment already processed"),
    Outcome.PENDING: (202, "pending", None),
    Outcome.FAILED: (400, "failed", None),
    Outcome.NOT_FOUND: (404, "failed", "Purchase not found"),
}


@extend_schema(**openapi.VERIFY)
@api_view(["GET", "POST"])
@throttle_classes([VerifyThrottle])
def verify(request):
    business = business_for_request(request)
    source = request.query_params if request.method == "GET" else request.data
    data = VerifyInputSerializer(data=source)
    data.is_valid(raise_exception=True)
    reference = data.validated_data["reference"] or data.validated_data["session_id"]
    try:
        settled = purchase_verify(business=business, **data.validated_data)
    except GatewayError as exc:  # the SPA's contract: an error status, the purchase stays pending
        body = {"status": "error", "message": exc.detail, "reference": reference}
        return Response(body, status=exc.status_code)
    if settled.purchase is not None:  # found by Stripe's session id: answer with our reference
        reference = settled.purchase.payment_reference
    http_status, verdict, message = VERIFY_ANSWERS[settled.outcome]
    body = {"status": verdict, "message": message or settled.message, "reference": reference}
    if settled.outcome == Outcome.CREDITED:
        body.update(credits_added=settled.credits_added, new_balance=settled.balance)
    elif settled.outcome == Outcome.ALREADY_PROCESSED:
        body.update(credits_added=settled.purchase.total_credits, current_balance=settled.balance)
    return Response(body, status=http_status)


# Newest first; the keyset the purchases lists page by (pos.pagination).
PURCHASE_ORDER = ("purchased_at", "id")


@extend_schema(**openapi.PURCHASES)
@api_view(["GET"])
def purchases(request):
    business = business_for_request(request)
    found = purchases_list(business=business)
    return paginated(request, found, PurchaseOutputSerializer, keyset=PURCHASE_ORDER)


@extend_schema(**openapi.ADMIN_PURCHASES)
@api_view(["GET"])
@permission_classes([IsAdminUser])
def admin_purchases(request):
    filters = PurchaseStatusFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    every = purchases_list(status=filters.validated_data.get("status"))
    return paginated(request, every, AdminPurchaseOutputSerializer, keyset=PURCHASE_ORDER)


WEBHOOK_HTTP_STATUS = {"invalid_signature": 400, "malformed": 400, "error": 500}


@extend_schema(**openapi.PAYSTACK_WEBHOOK)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def paystack_webhook(request):
    return _webhook(request, gateway="paystack")


@extend_schema(**openapi.STRIPE_WEBHOOK)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def stripe_webhook(request):
    return _webhook(request, gateway="stripe")


def _webhook(request, *, gateway: str) -> Response:
    delivery = webhook_receive(
        gateway=gateway,
        raw_body=request.body,
        headers=request.headers,
        remote_addr=client_ip(request),  # as the throttles read it (NUM_PROXIES)
    )
    http_status = WEBHOOK_HTTP_STATUS.get(delivery.outcome, 200)
    return Response({"received": http_status == 200, "outcome": delivery.outcome}, http_status)
