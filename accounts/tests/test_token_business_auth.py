"""The token authentication that also finds the acting business: one query for token, user and
membership, and every answer of section 6 (X-Business-ID, 400/403/404) as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import BusinessMembership
from ai_features.services.credits import credits_add
from conftest import make_business, make_user, statement_text, token_client

pytestmark = pytest.mark.django_db
BALANCE = "/ai/api/credits/balance/"


@pytest.mark.postgres
def test_a_balance_read_costs_one_query_for_auth_and_business_and_one_for_the_row(user, business):
    credits_add(business=business, amount="12.50", kind="grant")
    client = token_client(user)
    client.get(BALANCE)  # prepares the statements on this connection (pos/prepared.py)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BALANCE)

    assert response.status_code == 200 and response.json()["balance"] == 12.5
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert "authtoken_token" in statement_text(queries.captured_queries[0]["sql"])


@pytest.mark.postgres
def test_the_header_picks_a_business_in_the_same_one_query(user, business):
    other = make_business(owner=make_user())
    BusinessMembership.objects.create(user=user, business=other, role="staff")
    credits_add(business=other, amount="7", kind="grant")
    client = token_client(user)
    client.get(BALANCE, HTTP_X_BUSINESS_ID=str(other.id))  # prepares the statements
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BALANCE, HTTP_X_BUSINESS_ID=str(other.id))

    assert response.json()["balance"] == 7
    assert len(queries.captured_queries) == 2
    assert "m.business_id = $2" in statement_text(queries.captured_queries[0]["sql"])


@pytest.mark.parametrize(
    ("setup", "header", "status", "code"),
    [
        ("two", None, 400, "business_selection_required"),
        ("two", "abc", 400, "invalid_business_id"),
        ("two", "stranger", 404, "business_not_found"),
        ("none", None, 403, "no_business"),
        ("none", "stranger", 403, "no_business"),
    ],
)
def test_every_business_answer_is_kept(setup, header, status, code):
    user = make_user()
    if setup == "two":
        make_business(owner=user)
        make_business(owner=user)
    stranger = make_business()
    headers = {}
    if header is not None:
        headers["HTTP_X_BUSINESS_ID"] = str(stranger.id) if header == "stranger" else header

    response = token_client(user).get(BALANCE, **headers)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_an_unknown_token_or_an_inactive_user_is_refused_as_drf_refuses(user, business):
    client = token_client(user)
    user.is_active = False
    user.save()
    response = client.get(BALANCE)
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."

    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get(BALANCE)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_a_business_found_for_one_user_is_not_used_for_another(user, business):
    from rest_framework.test import APIRequestFactory

    from accounts.services import business_for_request

    request = APIRequestFactory().get(BALANCE)
    request._acting_membership = (user.pk + 1000, "", business)
    request.user = make_user()
    with pytest.raises(Exception) as caught:
        business_for_request(request)
    assert getattr(caught.value, "code", None) == "no_business"


def test_the_apis_carry_no_session_or_csrf_cookie_and_the_admin_keeps_them(user, business, client):
    response = token_client(user).get(BALANCE)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert response["X-Request-ID"] and response["X-Frame-Options"] == "DENY"

    page = client.get("/admin/login/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
