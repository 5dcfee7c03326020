"""The token authentication that also finds the acting business (one ORM query for token, user
and membership), and every answer of section 6 (X-Business-ID, 400/403/404) as before."""

import pytest

from accounts.models import BusinessMembership
from ai_features.credits.credits import credits_add
from testing.clients import token_client
from testing.factories import BusinessFactory, UserFactory

pytestmark = pytest.mark.django_db
BALANCE = "/ai/api/credits/balance/"


def test_a_token_of_a_one_business_user_reads_that_business(user, business):
    credits_add(business=business, amount="12.50", kind="grant")

    response = token_client(user).get(BALANCE)

    assert response.status_code == 200 and response.json()["balance"] == 12.5


def test_the_header_picks_one_of_several_businesses(user, business):
    other = BusinessFactory(owner=UserFactory())
    BusinessMembership.objects.create(user=user, business=other, role="staff")
    credits_add(business=business, amount="3", kind="grant")
    credits_add(business=other, amount="7", kind="grant")
    client = token_client(user)

    assert client.get(BALANCE, HTTP_X_BUSINESS_ID=str(other.id)).json()["balance"] == 7
    assert client.get(BALANCE, HTTP_X_BUSINESS_ID=str(business.id)).json()["balance"] == 3


def test_the_token_found_is_the_one_drf_would_find(user, business):
    from rest_framework.authtoken.models import Token
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from accounts.authentication import TokenBusinessAuthentication

    token = Token.objects.create(user=user)
    request = APIRequestFactory().get(BALANCE, HTTP_AUTHORIZATION=f"Token {token.key}")
    found_user, found_token = TokenBusinessAuthentication().authenticate(Request(request))

    assert (found_user, found_token) == (user, token) and found_token.user == user


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
    user = UserFactory()
    if setup == "two":
        BusinessFactory(owner=user)
        BusinessFactory(owner=user)
    stranger = BusinessFactory()
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
    request.user = UserFactory()
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
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
