"""A database that cannot be reached answers 503 `database_unavailable` with `Retry-After: 5`,
wherever in the request the failure comes: authentication, a throttle, a view, a middleware, a
plain Django view, /healthz (issue 19, item 7). The connection is pointed at a closed port."""

import json
import logging

import psycopg2
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.test import Client, override_settings
from django.urls import path
from rest_framework.test import APIClient

from pos.database import is_database_unavailable
from testing.db import real_settings_env, run_python

CLOSED_PORT = "1"
UNAVAILABLE = {
    "detail": "The service is briefly unavailable. Try again in a few seconds.",
    "code": "database_unavailable",
}


@pytest.fixture
def database_down(django_db_blocker, monkeypatch, caplog):
    """The default connection aimed at 127.0.0.1:1, where nothing listens."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", CLOSED_PORT)
    with django_db_blocker.unblock():
        yield
        connection.close()


def assert_unavailable(response, caplog):
    assert response.status_code == 503, response.content
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "5"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"database unavailable: {response.request['REQUEST_METHOD']} "
        f"{response.request['PATH_INFO']} OperationalError"
    ]
    assert not any(r.exc_info for r in errors)  # one line, no traceback


def anonymous() -> Client:
    return Client(raise_request_exception=False)


def test_token_authentication_answers_503(database_down, caplog):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION="Token " + "a" * 40)

    assert_unavailable(client.get("/ai/api/credits/balance/"), caplog)


def test_a_throttle_answers_503(database_down, caplog):
    # The login throttle counts in the database before the view reads a byte.
    response = anonymous().post(
        "/accounts/api/auth/token/",
        {"username": "ama", "password": "pw"},
        content_type="application/json",
    )

    assert_unavailable(response, caplog)


def test_a_webhook_answers_503_so_the_gateway_retries(database_down, caplog):
    response = anonymous().post(
        "/ai/api/webhooks/paystack/", b"{}", content_type="application/json"
    )

    assert_unavailable(response, caplog)


def test_a_plain_django_view_answers_503(database_down, caplog):
    client = anonymous()
    client.cookies["sessionid"] = "x" * 32  # the admin reads the session from the database

    response = client.get("/admin/")

    assert_unavailable(response, caplog)
    assert response["X-Request-ID"]  # the request's own log line did not query the session


def touch_the_database(get_response):
    def middleware(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return get_response(request)

    return middleware


def test_a_middleware_answers_503(database_down, caplog, settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:1],
        f"{__name__}.touch_the_database",
        *settings.MIDDLEWARE[1:],
    ]

    response = anonymous().get("/ai/api/credits/packages/")

    assert_unavailable(response, caplog)
    assert response["X-Request-ID"]  # the outer middleware still saw the answer


def test_healthz_answers_503_with_retry_after(database_down):
    response = anonymous().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert response["Retry-After"] == "5"


FAILURES = {
    "integrity": IntegrityError("duplicate key"),
    "database-error": DatabaseError("syntax error"),
    "not-a-database-error": RuntimeError("bug"),
}


def boom(request, kind):
    raise FAILURES[kind]


urlpatterns = [path("ai/api/boom/<str:kind>/", boom)]
handler500 = "pos.views.server_error"


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("kind", FAILURES)
def test_other_failures_stay_500(kind):
    response = anonymous().get(f"/ai/api/boom/{kind}/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error.", "code": "server_error"}
    assert "Retry-After" not in response


def driver_error(cls, pgcode):
    """Django's error as its wrapper raises it: from the driver's, which carries the SQLSTATE."""
    driver = cls("server said no")
    if pgcode:
        # psycopg2's errors take their pgcode from the server; a subclass can name one.
        driver = type("WithCode", (cls,), {"pgcode": pgcode})("server said no")
    wrapper = OperationalError if issubclass(cls, psycopg2.OperationalError) else InterfaceError
    django_error = wrapper()
    django_error.__cause__ = driver
    return django_error


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        pytest.param(driver_error(psycopg2.OperationalError, None), True, id="refused"),
        pytest.param(driver_error(psycopg2.OperationalError, "57P01"), True, id="admin-shutdown"),
        pytest.param(driver_error(psycopg2.OperationalError, "57P03"), True, id="starting-up"),
        pytest.param(driver_error(psycopg2.OperationalError, "08006"), True, id="link-failure"),
        pytest.param(driver_error(psycopg2.OperationalError, "53300"), True, id="too-many"),
        pytest.param(driver_error(psycopg2.InterfaceError, None), True, id="closed"),
        pytest.param(driver_error(psycopg2.OperationalError, "40P01"), False, id="deadlock"),
        pytest.param(driver_error(psycopg2.OperationalError, "40001"), False, id="serialization"),
        pytest.param(driver_error(psycopg2.OperationalError, "57014"), False, id="timeout"),
        pytest.param(IntegrityError(), False, id="integrity"),
        pytest.param(ValueError(), False, id="not-the-database"),
        pytest.param(None, False, id="nothing"),
    ],
)
def test_only_a_database_that_cannot_be_reached_counts(exc, unavailable):
    assert is_database_unavailable(exc) is unavailable


WSGI_REQUESTS = """
import io, json, sys
from pos.wsgi import application

def call(method, path, body=b"", **headers):
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "HTTP_HOST": "localhost", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "127.0.0.1", **headers,
    }
    seen = {}
    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)
    body = b"".join(application(environ, start_response))
    return {"status": seen["status"], "retry_after": seen["headers"].get("Retry-After"),
            "body": body.decode()}

print(json.dumps([
    call("GET", "/healthz"),
    call("POST", "/accounts/api/auth/token/", b'{"username": "a", "password": "b"}'),
    call("GET", "/ai/api/credits/balance/", HTTP_AUTHORIZATION="Token " + "a" * 40),
    call("POST", "/ai/api/webhooks/stripe/", b"{}"),
]))
"""


def test_the_real_settings_answer_503_when_the_database_url_names_a_closed_port():
    env = real_settings_env(
        DEBUG="false",
        DJANGO_SECRET_KEY="a-real-secret-for-this-test",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/ai_credits",
        SECURE_SSL="false",
        SANDBOX="false",
    )

    result = run_python(WSGI_REQUESTS, env)

    assert result.returncode == 0, result.stderr
    healthz, login, balance, webhook = json.loads(result.stdout.strip().splitlines()[-1])
    assert (healthz["status"], healthz["retry_after"]) == ("503 Service Unavailable", "5")
    for answer in (login, balance, webhook):
        assert answer["status"] == "503 Service Unavailable", answer
        assert answer["retry_after"] == "5"
        assert json.loads(answer["body"]) == UNAVAILABLE
    assert "Traceback" not in result.stderr
    assert result.stderr.count("database unavailable:") == 3
