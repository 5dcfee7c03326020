"""The project's URLs with the sandbox mounted, whatever PAYSTACK_SANDBOX was at startup."""

from django.urls import include, path

from pos.urls import handler404, handler500  # noqa: F401
from pos.urls import urlpatterns as project_urlpatterns

SANDBOX_PREFIX = "sandbox/paystack/"
OPENAI_PREFIX = "sandbox/openai/v1/"
STRIPE_PREFIX = "sandbox/stripe/"
PREFIXES = {SANDBOX_PREFIX, OPENAI_PREFIX, STRIPE_PREFIX}

urlpatterns = [
    *(p for p in project_urlpatterns if str(p.pattern) not in PREFIXES),
    path(SANDBOX_PREFIX, include("paystack_sandbox.urls")),
    path(OPENAI_PREFIX, include("paystack_sandbox.openai_urls")),
    path(STRIPE_PREFIX, include("paystack_sandbox.stripe_urls")),
]
