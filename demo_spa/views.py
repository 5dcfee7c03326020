"""The demo credits page: one static HTML shell; app.js does the rest through the REST API."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

# The page loads only its own script and stylesheet and talks only to this origin's API.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@require_safe
def index(request):
    """The credits page and the payment callback page: app.js routes on the path.

    No CSRF cookie and no session: the page authenticates with a token, like the real SPA.
    """
    response = render(request, "demo_spa/index.html")
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Referrer-Policy"] = "same-origin"
    return response
