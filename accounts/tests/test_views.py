import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Business, BusinessMembership
from testing.clients import token_client
from testing.factories import BusinessFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/accounts/api/auth/register/"
TOKEN = "/accounts/api/auth/token/"
LOGOUT = "/accounts/api/auth/logout/"
ME = "/accounts/api/me/"


def register(client, **overrides):
    body = {
        "username": "ama",
        "email": "ama@example.com",
        "password": "kente-cloth-42",
        "business_name": "Ama's Provisions",
    }
    return client.post(REGISTER, {**body, **overrides}, format="json")


def test_register_creates_owner_business_and_working_token():
    response = register(APIClient())

    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "ama" and body["user"]["email"] == "ama@example.com"
    business = Business.objects.get(pk=body["business"]["id"])
    assert body["business"]["name"] == "Ama's Provisions" == business.name
    assert business.owner.username == "ama"
    assert BusinessMembership.objects.get(business=business).role == "owner"

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get(ME).status_code == 200


def test_register_refuses_taken_username_and_weak_password():
    register(APIClient())

    taken = register(APIClient(), email="other@example.com")
    weak = register(APIClient(), username="kofi", password="123")

    assert taken.status_code == 400 and "username" in taken.json()
    assert weak.status_code == 400 and "password" in weak.json()
    assert Business.objects.count() == 1


def test_register_reports_missing_fields():
    response = APIClient().post(REGISTER, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "email", "password", "business_name"}


def test_login_returns_the_users_token():
    user = UserFactory(username="kwame", password="plantain-chips-7")

    response = APIClient().post(
        TOKEN, {"username": "kwame", "password": "plantain-chips-7"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_login_with_bad_password_is_refused_with_a_code():
    UserFactory(username="kwame", password="plantain-chips-7")

    response = APIClient().post(TOKEN, {"username": "kwame", "password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert not Token.objects.exists()


def test_logout_invalidates_the_token():
    user = UserFactory()
    client = token_client(user)

    assert client.post(LOGOUT).status_code == 204
    response = client.get(ME)

    assert response.status_code == 401
    assert not Token.objects.filter(user=user).exists()


def test_me_lists_businesses_with_roles():
    user = UserFactory(username="efua")
    own = BusinessFactory(owner=user, name="Efua Fabrics")
    other = BusinessFactory(name="Cousin's Shop")
    BusinessMembership.objects.create(user=user, business=other, role="staff")

    response = token_client(user).get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "efua",
        "email": "efua@example.com",
        "businesses": [
            {"id": own.id, "name": "Efua Fabrics", "role": "owner"},
            {"id": other.id, "name": "Cousin's Shop", "role": "staff"},
        ],
    }


def test_endpoints_need_a_token_and_say_so_in_the_error_shape():
    response = APIClient().get(ME)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
