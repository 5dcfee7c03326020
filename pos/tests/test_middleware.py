"""One log line per request with a request id; secrets and tokens never reach the logs."""

import json
import logging

import pytest
from rest_framework.test import APIClient

from testing.paystack_api import TEST_SECRET, charge_success_body, deliver_webhook

pytestmark = pytest.mark.django_db


def test_every_answer_carries_a_request_id_and_one_log_line(api, caplog):
    caplog.set_level(logging.INFO, logger="pos.request")

    first = api.get("/ai/api/credits/balance/")
    second = api.get("/ai/api/credits/balance/")

    ids = {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    lines = [r for r in caplog.records if r.name == "pos.request"]
    assert len(lines) == 2
    assert lines[0].getMessage().startswith("GET /ai/api/credits/balance/ 200 ")
    assert {r.request_id for r in lines} == ids


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(api):
    kept = api.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    replaced = api.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert (
        replaced["X-Request-ID"] != "bad id\nwith newline" and len(replaced["X-Request-ID"]) == 32
    )


def test_a_whole_purchase_logs_no_secret_key_and_no_token(paystack, caplog):
    caplog.set_level(logging.DEBUG)
    client = APIClient()
    registered = client.post(
        "/accounts/api/auth/register/",
        {
            "username": "abena",
            "email": "abena@example.com",
            "password": "waakye-and-shito-9",
            "business_name": "Abena's Chop Bar",
        },
        format="json",
    ).json()
    token = registered["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    paystack.initialize_ok()
    reference = client.post(
        "/ai/api/credits/purchase/", {"package": "value"}, format="json"
    ).json()["reference"]
    paystack.verify(reference)
    client.get("/ai/api/credits/verify/", {"reference": reference})
    deliver_webhook(APIClient(), charge_success_body(reference, 9400))
    client.post("/accounts/api/auth/token/", {"username": "abena", "password": "nope"})
    client.post("/accounts/api/auth/logout/")

    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert f"purchase started reference={reference}" in logged
    assert f"purchase credited reference={reference}" in logged
    assert "paystack webhook event=charge.success" in logged
    assert f"payment verdict reference={reference} gateway_status=success outcome=credited" in (
        logged
    )
    assert TEST_SECRET not in logged
    assert token not in logged
    assert "waakye-and-shito-9" not in logged
    assert "Bearer" not in logged


def test_django_error_lines_logged_after_the_answer_keep_the_request_id(caplog):
    from unittest import mock

    from django.db import DatabaseError

    caplog.set_level(logging.WARNING, logger="django.request")
    with mock.patch("pos.views.connection.cursor", side_effect=DatabaseError("gone")):
        response = APIClient().get("/healthz")

    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "Django logs the 503"
    from pos.middleware import RequestIdFilter

    RequestIdFilter().filter(records[0])
    assert records[0].request_id == response["X-Request-ID"]


def test_a_newline_in_the_path_is_logged_escaped(client, caplog):
    """Regression: %0A in a URL is a newline in request.path, which made a line of its own."""
    caplog.set_level(logging.INFO, logger="pos.request")

    client.get("/nowhere%0A2026-01-01 INFO forged")

    [line] = [r.getMessage() for r in caplog.records if r.name == "pos.request"]
    assert "\n" not in line and "'/nowhere\\n2026-01-01 INFO forged'" in line


ONE_MB = 1024 * 1024
# Every kind of endpoint: API (token or none), the webhook, Django's admin, the docs, 404s.
PATHS = [
    "/ai/api/webhooks/paystack/",
    "/accounts/api/auth/register/",
    "/accounts/api/auth/token/",
    "/ai/api/credits/purchase/",
    "/ai/api/credits/verify/",
    "/healthz",
    "/admin/login/",
    "/api/schema/",
    "/no/such/path/",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [ONE_MB + 1, 2_600_000])
def test_a_body_over_1_mb_is_413_in_the_json_error_shape_everywhere(client, path, size):
    """Regression: a body over 2.5 MB got Django's HTML 400; the cap is now 1 MB, in JSON."""
    response = client.generic("POST", path, b"{" + b" " * (size - 2) + b"}", "application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is larger than 1 MB.",
        "code": "request_too_large",
    }


def test_a_body_of_exactly_1_mb_is_let_through(client, paystack_settings):
    from ai_features.models import WebhookEvent

    body = b"{" + b" " * (ONE_MB - 2) + b"}"

    response = client.generic("POST", "/ai/api/webhooks/paystack/", body, "application/json")

    assert response.status_code == 400  # read, and refused for its missing signature
    assert WebhookEvent.objects.get().body_size == ONE_MB


def asgi_request(body: bytes, headers=()):
    """A request as an ASGI server hands it over: a chunked body has no Content-Length."""
    from tempfile import SpooledTemporaryFile

    from django.core.handlers.asgi import ASGIRequest

    stream = SpooledTemporaryFile(max_size=ONE_MB)  # noqa: SIM115 (the request closes it)
    stream.write(body)
    stream.seek(0)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/ai/api/webhooks/paystack/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
    }
    return ASGIRequest(scope, stream)


@pytest.mark.parametrize(
    "headers", [(), ((b"content-length", b"10"),)], ids=["chunked", "understated-length"]
)
def test_a_body_over_1_mb_is_413_by_the_bytes_read_too(headers):
    from pos.middleware import RequestSizeLimitMiddleware

    def view(request):
        request.body  # noqa: B018 (what any view reading the body does)
        raise AssertionError("the view must not run, or must fail on reading")

    middleware = RequestSizeLimitMiddleware(view)
    request = asgi_request(b"x" * (ONE_MB + 1), headers)

    try:
        response = middleware(request)
    except Exception as exc:  # an understated length is caught when the view reads the body
        response = middleware.process_exception(request, exc)

    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "request_too_large"


def test_a_chunked_body_within_1_mb_reaches_the_view_whole():
    from pos.middleware import RequestSizeLimitMiddleware

    seen = []
    middleware = RequestSizeLimitMiddleware(lambda request: seen.append(request.body) or "ok")

    assert middleware(asgi_request(b"x" * ONE_MB)) == "ok"
    assert seen == [b"x" * ONE_MB]


@pytest.mark.parametrize(
    ("allowed", "peer", "kept"),
    [
        (["127.0.0.1"], "127.0.0.1", True),
        (["127.0.0.1"], "203.0.113.5", False),
        (["10.0.0.0/8", "::1"], "10.9.8.7", True),
        (["10.0.0.0/8", "::1"], "::1", True),
        (["10.0.0.0/8"], "11.0.0.1", False),
        (["10.0.0.0/8"], "", False),
        (["*"], "203.0.113.5", True),
    ],
)
def test_x_forwarded_proto_is_kept_only_from_a_listed_proxy(settings, allowed, peer, kept):
    from django.test import RequestFactory

    from pos.middleware import TrustedProxyMiddleware

    settings.FORWARDED_ALLOW_IPS = allowed
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https")

    TrustedProxyMiddleware(lambda request: None)(request)

    assert ("HTTP_X_FORWARDED_PROTO" in request.META) is kept
    assert request.is_secure() is kept
