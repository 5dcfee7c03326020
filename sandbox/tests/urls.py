"""The project's URLs with the sandbox mounted, whatever SANDBOX was at startup."""

from django.urls import include, path

from pos.urls import handler404, handler500  # noqa: F401
from pos.urls import urlpatterns as project_urlpatterns

SANDBOX_PREFIX = "sandbox/paystack/"
OPENAI_PREFIX = "sandbox/openai/v1/"
STRIPE_PREFIX = "sandbox/stripe/"
PREFIXES = {SANDBOX_PREFIX, OPENAI_PREFIX, STRIPE_PREFIX}

urlpatterns = [
    *(p for p in project_urlpatterns if str(p.pattern) not in PREFIXES),
    path(SANDBOX_PREFIX, include("sandbox.paystack.urls")),
    path(OPENAI_PREFIX, include("sandbox.openai.urls")),
    path(STRIPE_PREFIX, include("sandbox.stripe.urls")),
]
