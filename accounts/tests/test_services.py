"""Which business a request acts for, seen through the balance endpoint."""

import pytest

from accounts.models import BusinessMembership
from ai_features.credits.grants import credits_grant
from testing.clients import token_client
from testing.factories import BusinessFactory, UserFactory

pytestmark = pytest.mark.django_db

BALANCE = "/ai/api/credits/balance/"


@pytest.fixture
def two_shops():
    user = UserFactory()
    first = BusinessFactory(owner=user)
    second = BusinessFactory()
    BusinessMembership.objects.create(user=user, business=second, role="admin")
    credits_grant(business=first, credits=10, package="test")
    credits_grant(business=second, credits=20, package="test")
    return user, first, second


def test_single_membership_is_used_without_a_header(user, business, api):
    credits_grant(business=business, credits=7, package="test")

    assert api.get(BALANCE).json()["balance"] == 7


def test_several_memberships_without_header_is_400(two_shops):
    user, _, _ = two_shops

    response = token_client(user).get(BALANCE)

    assert response.status_code == 400
    assert response.json()["code"] == "business_selection_required"


def test_header_picks_among_memberships(two_shops):
    user, first, second = two_shops
    client = token_client(user)

    assert client.get(BALANCE, HTTP_X_BUSINESS_ID=str(first.id)).json()["balance"] == 10
    assert client.get(BALANCE, HTTP_X_BUSINESS_ID=str(second.id)).json()["balance"] == 20


def test_header_naming_a_business_the_user_is_not_in_is_404(two_shops):
    user, _, _ = two_shops
    stranger_shop = BusinessFactory()

    response = token_client(user).get(BALANCE, HTTP_X_BUSINESS_ID=str(stranger_shop.id))

    assert response.status_code == 404
    assert response.json()["code"] == "business_not_found"


def test_header_that_is_not_a_number_is_400(two_shops):
    user, _, _ = two_shops

    response = token_client(user).get(BALANCE, HTTP_X_BUSINESS_ID="first")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_business_id"


@pytest.mark.parametrize(
    "header",
    [
        "\u00b2",  # superscript two: isdigit() but not int() (regression: it answered 500)
        "{id}\u00b2",
        "\u0663",  # Arabic-Indic three: int() would read it as 3
        "\uff11",  # fullwidth one
        "+{id}",
        "-{id}",
        "{id}.0",
        "{id} {id}",
        "{id}_0",
        "0x{id}",
    ],
)
def test_a_header_that_is_not_plain_ascii_digits_is_400(two_shops, header):
    user, first, _ = two_shops

    response = token_client(user).get(BALANCE, HTTP_X_BUSINESS_ID=header.format(id=first.id))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_business_id"


def test_user_without_business_is_403():
    response = token_client(UserFactory()).get(BALANCE)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your account does not belong to any business.",
        "code": "no_business",
    }


def test_single_membership_with_header_for_another_business_is_404(user, business, api):
    other = BusinessFactory()

    response = api.get(BALANCE, HTTP_X_BUSINESS_ID=str(other.id))

    assert response.status_code == 404


def test_a_business_id_beyond_64_bits_is_400_not_a_crash(api):
    # Regression (found by the fuzz test): the database refused the number and the answer was 500.
    response = api.get(BALANCE, HTTP_X_BUSINESS_ID="80657870884365565952")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_business_id"
