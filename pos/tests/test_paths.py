"""Each use of the prefixes in pos.paths: which paths skip the session middleware
(TOKEN_API_PREFIXES) and which answer errors in the API's JSON shape (JSON_ERROR_PREFIXES)."""

import pytest
from django.test import RequestFactory

from pos.paths import JSON_ERROR_PREFIXES, TOKEN_API_PREFIXES
from pos.views import server_error

pytestmark = pytest.mark.django_db

JSON_NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def test_the_json_error_prefixes_are_the_token_apis_and_the_schema():
    assert (*TOKEN_API_PREFIXES, "/api/") == JSON_ERROR_PREFIXES


@pytest.mark.parametrize("path", ["/api/nothing/", "/ai/api/nothing/", "/accounts/api/nothing/"])
def test_an_unknown_url_under_the_api_or_its_schema_answers_json(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == JSON_NOT_FOUND


def test_an_unknown_admin_url_answers_djangos_html_404(admin_client):
    # Signed in: the admin's catch-all sends anyone else to its login page first.
    response = admin_client.get("/admin/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "json"), [("/api/docs/", True), ("/ai/api/x/", True), ("/admin/x/", False)]
)
def test_a_server_error_answers_json_under_the_api_and_html_elsewhere(path, json):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = server_error(RequestFactory().get(path))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json" if json else "text/html")


@pytest.mark.parametrize(
    ("path", "session"),
    [
        ("/ai/api/credits/balance/", False),
        ("/accounts/api/me/", False),
        # The schema and its docs page are pages a browser opens, not the token APIs: they keep
        # Django's session, as the admin does.
        ("/api/docs/", True),
        ("/api/schema/", True),
        ("/admin/", True),
    ],
)
def test_only_the_token_apis_skip_the_session(admin_client, settings, path, session):
    # With a session saved on every request, any path that runs the session middleware sends
    # the browser's session cookie back; a token API never touches it.
    settings.SESSION_SAVE_EVERY_REQUEST = True
    name = settings.SESSION_COOKIE_NAME
    assert name in admin_client.cookies

    response = admin_client.get(path)

    assert (name in response.cookies) is session
    assert ("Cookie" in response.get("Vary", "")) is session
