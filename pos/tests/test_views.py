from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_without_auth_while_the_database_answers():
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not():
    with mock.patch("pos.views.connection.cursor", side_effect=DatabaseError("gone")):
        response = APIClient().get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_the_openapi_schema_validates_without_warnings():
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schema = out.getvalue()
    for path in (
        "/ai/api/credits/purchase/",
        "/ai/api/credits/verify/",
        "/ai/api/webhooks/paystack/",
        "/accounts/api/auth/token/",
    ):
        assert f"{path}:" in schema
    assert "tokenAuth" in schema and "Value pack by mobile money" in schema


def test_the_schema_and_the_docs_page_are_served():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = APIClient().get("/api/docs/")

    assert schema.status_code == 200 and schema.json()["info"]["title"] == "AI credits API"
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


@pytest.mark.parametrize(
    ("origin", "allowed"), [("http://localhost:5173", True), ("https://evil.example.com", False)]
)
def test_cors_preflight_is_allowed_only_from_the_spa(origin, allowed):
    response = APIClient().options(
        "/ai/api/credits/purchase/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key, "
        "x-business-id",
    )

    if allowed:
        assert response["Access-Control-Allow-Origin"] == origin
        allowed_headers = response["Access-Control-Allow-Headers"].lower()
        for header in ("authorization", "idempotency-key", "x-business-id"):
            assert header in allowed_headers
    else:
        assert "Access-Control-Allow-Origin" not in response


def test_an_unknown_api_url_answers_json_in_the_error_shape(api):
    response = api.post("/ai/api/credits/alerts/null,null/acknowledge/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unknown_page_elsewhere_keeps_django_html():
    response = APIClient().get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
