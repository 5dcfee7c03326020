"""The yardstick for bench/metering_overhead.py: the product-description call with the metering
taken out, served by the app's own gunicorn beside the metered call.

The URLconf of bench/metering_settings.py (with bench/ on the path): it mounts the app unchanged
and adds one view under /ai/api/, so both calls pass through the same middleware. Only
bench/metering_overhead.py loads it; the app never does.

What the pass-through keeps of POST /ai/api/features/product-description/: the authentication
(DRF's default classes, as the app's views have them), the acting business, the per-business
feature throttle (a limit, not metering), the input serializer, the feature's messages, the same
ProviderClient method (`provider_client().chat_complete`, so the same SDK call on the same shared
client), the feature's result and the output serializer. What it leaves out is the metering: the
price lookup, the hold, the settle, the ledger entry, the balance read for the answer and the
idempotency handling. Its answer has the metered answer's shape, with nothing charged.
"""

from django.urls import include, path
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.response import Response
from serving import UNMETERED_PATH

from accounts.services import business_for_request
from ai_features.features.catalog.product_description import FEATURE
from ai_features.features.provider import provider_client
from ai_features.features.throttling import AIFeatureThrottle

handler404 = "pos.views.not_found"
handler500 = "pos.views.server_error"


@api_view(["POST"])
@throttle_classes([AIFeatureThrottle])
def pass_through(request):
    business_for_request(request)
    data = FEATURE.input_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    completion = provider_client().chat_complete(
        messages=FEATURE.messages_for(data.validated_data),
        json_schema=FEATURE.json_schema,
    )
    answer = {
        "feature": FEATURE.code,
        "result": FEATURE.result_from(completion),
        "credits_charged": "0",
        "balance": "0",
        "transaction_id": 0,
        "tokens_used": completion.total_tokens,
    }
    return Response(FEATURE.output_serializer(answer).data)


urlpatterns = [
    path(UNMETERED_PATH.lstrip("/"), pass_through),
    path("", include("pos.urls")),
]
