"""The OpenAPI description of the buying endpoints (kept here so the views stay short)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    inline_serializer,
)
from rest_framework import serializers

from ai_features.payments.serializers import (
    AdminPurchaseOutputSerializer,
    PackageOutputSerializer,
    PurchaseInputSerializer,
    PurchaseOutputSerializer,
    PurchaseStartedOutputSerializer,
    PurchaseStatusFilterSerializer,
    StripePurchaseStartedOutputSerializer,
)
from pos.openapi import (
    FIELD_ERRORS,
    PAGING,
    THROTTLED,
    UNAUTHENTICATED,
    ErrorSerializer,
    business_scoped,
    error,
    paginated,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


class VerifyAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["success", "pending", "failed", "error"])
    message = serializers.CharField()
    reference = serializers.CharField()
    credits_added = serializers.DecimalField(**MONEY, required=False)
    new_balance = serializers.DecimalField(**MONEY, required=False)
    current_balance = serializers.DecimalField(**MONEY, required=False)


def verify_answer(description):
    return OpenApiResponse(VerifyAnswerSerializer, description=description)


GATEWAY_ERRORS = {
    502: error("Paystack failed or refused us (`payment_gateway_*`). The purchase is kept."),
    503: error("Payments are not configured (`payment_gateway_not_configured`)."),
    504: error("Paystack did not answer in time (`payment_gateway_timeout`)."),
}
REFERENCE = "AI-CREDIT-1763700000000-9f2c4b1a"

# The documented answer to a Paystack purchase of the value package (a test holds it to the
# real answer).
CHECKOUT_OPENED = {
    "authorization_url": "https://checkout.paystack.com/nkdks46nymizns7",
    "access_code": "nkdks46nymizns7",
    "reference": REFERENCE,
    "amount": 94.0,
    "invoice": {
        "base_amount": 80.0,
        "taxes": [
            {"name": "VAT", "rate": 12.5, "amount": 10.0},
            {"name": "NHIL", "rate": 2.5, "amount": 2.0},
            {"name": "GETFund", "rate": 2.5, "amount": 2.0},
        ],
        "total_tax": 14.0,
        "total_amount": 94.0,
        "currency": "GHS",
    },
    "credits_to_add": 100.0,
    "package": "value",
}

PACKAGES = {"responses": {200: PackageOutputSerializer(many=True), 401: UNAUTHENTICATED}}
PURCHASE = business_scoped(
    request=PurchaseInputSerializer,
    parameters=[
        OpenApiParameter(
            "Idempotency-Key",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=False,
            description="Repeat with the same key and body: the first answer again, no second "
            "purchase. Same key, other body: 409.",
        )
    ],
    responses={
        201: PolymorphicProxySerializer(
            component_name="PurchaseStartedAnswer",
            serializers=[PurchaseStartedOutputSerializer, StripePurchaseStartedOutputSerializer],
            resource_type_field_name=None,
        ),
        400: FIELD_ERRORS,
        409: error("Idempotency-Key reused with another body, or still in progress."),
        429: THROTTLED,
        **GATEWAY_ERRORS,
    },
    examples=[
        OpenApiExample(
            "Value pack by mobile money",
            request_only=True,
            value={"package": "value", "payment_method": "mobile_money"},
        ),
        OpenApiExample(
            "Custom amount by card",
            request_only=True,
            value={"package": "custom", "custom_amount": 150.0, "payment_method": "card"},
        ),
        OpenApiExample(
            "Checkout narrowed to card only",
            request_only=True,
            value={"package": "starter", "payment_method": "card", "channels": ["card"]},
        ),
        OpenApiExample(
            "Checkout opened",
            response_only=True,
            status_codes=["201"],
            value=CHECKOUT_OPENED,
        ),
    ],
)
VERIFY_PARAMETERS = [
    OpenApiParameter("reference", OpenApiTypes.STR, description="The purchase reference."),
    OpenApiParameter(
        "trxref", OpenApiTypes.STR, description="Same as reference (Paystack's name)."
    ),
]
VERIFY = business_scoped(
    parameters=VERIFY_PARAMETERS,
    request=inline_serializer(
        "VerifyRequest",
        fields={
            "reference": serializers.CharField(required=False),
            "trxref": serializers.CharField(required=False),
        },
    ),
    responses={
        200: verify_answer("Credited now, or already credited earlier."),
        202: verify_answer("Still in progress at Paystack; ask again shortly."),
        400: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="The payment failed, was abandoned or reversed, or is not the amount or "
            'currency asked for: `{"status": "failed", "message", "reference"}`. Also a missing '
            'reference (`{"reference": [...]}`) or a bad X-Business-ID (`{"detail", "code"}`).',
        ),
        404: OpenApiResponse(
            PolymorphicProxySerializer(
                component_name="VerifyNotFound",
                serializers=[VerifyAnswerSerializer, ErrorSerializer],
                resource_type_field_name=None,
            ),
            description='No such purchase for this business (`{"status": "failed", ...}`), or '
            'X-Business-ID names a business the user is not in (`{"detail", "code"}`).',
        ),
        429: THROTTLED,
        502: verify_answer("Paystack unreachable or failing; the purchase stays pending."),
        504: verify_answer("Paystack did not answer in time; the purchase stays pending."),
    },
    examples=[
        OpenApiExample(
            "Credited now",
            response_only=True,
            status_codes=["200"],
            value={
                "status": "success",
                "message": "Payment verified and credits added successfully",
                "reference": REFERENCE,
                "credits_added": 100.0,
                "new_balance": 150.0,
            },
        ),
        OpenApiExample(
            "Already credited",
            response_only=True,
            status_codes=["200"],
            value={
                "status": "success",
                "message": "Payment already processed",
                "reference": REFERENCE,
                "credits_added": 100.0,
                "current_balance": 150.0,
            },
        ),
        OpenApiExample(
            "Pending",
            response_only=True,
            status_codes=["202"],
            value={
                "status": "pending",
                "message": "Payment is still being processed.",
                "reference": REFERENCE,
            },
        ),
        OpenApiExample(
            "Not found",
            response_only=True,
            status_codes=["404"],
            value={"status": "failed", "message": "Purchase not found", "reference": REFERENCE},
        ),
    ],
)
PURCHASES = business_scoped(
    parameters=PAGING, responses={200: paginated(PurchaseOutputSerializer, "PaginatedPurchases")}
)
ADMIN_PURCHASES = {
    "parameters": [PurchaseStatusFilterSerializer, *PAGING],
    "responses": {
        200: paginated(AdminPurchaseOutputSerializer, "PaginatedAdminPurchases"),
        400: FIELD_ERRORS,
        401: UNAUTHENTICATED,
        403: error("Staff only (`permission_denied`)."),
    },
}
WEBHOOK_ANSWER = inline_serializer(
    "WebhookAnswer",
    fields={"received": serializers.BooleanField(), "outcome": serializers.CharField()},
)
PAYSTACK_WEBHOOK = {
    "auth": [],
    "parameters": [
        OpenApiParameter(
            "x-paystack-signature",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description="Hex HMAC-SHA512 of the raw body, keyed with the Paystack secret key.",
        )
    ],
    "request": OpenApiTypes.OBJECT,
    "responses": {
        200: OpenApiResponse(WEBHOOK_ANSWER, description="Recorded (handled or ignored)."),
        400: OpenApiResponse(WEBHOOK_ANSWER, description="Missing/wrong signature, or malformed."),
        500: OpenApiResponse(WEBHOOK_ANSWER, description="Processing failed; Paystack retries."),
    },
    "tags": ["webhooks"],
}

STRIPE_WEBHOOK = {
    "auth": [],
    "parameters": [
        OpenApiParameter(
            "Stripe-Signature",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description='`t=<unix time>,v1=<hex HMAC-SHA256 of "t.raw body">`, keyed with '
            "STRIPE_WEBHOOK_SECRET; older than 300 s is refused.",
        )
    ],
    "request": OpenApiTypes.OBJECT,
    "responses": PAYSTACK_WEBHOOK["responses"],
    "tags": ["webhooks"],
}
