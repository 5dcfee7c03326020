from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from pos.views import healthz

handler404 = "pos.views.not_found"
handler500 = "pos.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/api/", include("accounts.urls")),
    path("ai/api/", include("ai_features.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

if settings.SANDBOX:
    urlpatterns += [
        path("sandbox/paystack/", include("sandbox.paystack.urls")),
        path("sandbox/openai/v1/", include("sandbox.openai.urls")),
        path("sandbox/stripe/", include("sandbox.stripe.urls")),
        path("demo/", include("demo_spa.urls")),
    ]
