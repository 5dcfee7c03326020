from decimal import Decimal

import pytest
from django.utils.dateparse import parse_datetime

from ai_features.models import BusinessAICredits, CreditPackage
from ai_features.services.credits import credits_add, credits_deduct, credits_grant
from conftest import make_business, make_user, token_client

pytestmark = pytest.mark.django_db

BALANCE = "/ai/api/credits/balance/"
LEDGER = "/ai/api/credits/ledger/"
PACKAGES = "/ai/api/credits/packages/"


def test_balance_of_a_business_without_credits(api):
    response = api.get(BALANCE)

    assert response.status_code == 200
    assert response.json() == {"balance": 0, "expires_at": None, "is_active": False}


def test_balance_after_a_grant_is_a_json_number_with_expiry(api, business):
    credits_grant(business=business, credits=Decimal("50"), package="test")

    body = api.get(BALANCE).json()

    row = BusinessAICredits.objects.get(business=business)
    assert body["balance"] == 50 and isinstance(body["balance"], float)
    assert parse_datetime(body["expires_at"]) == row.expires_at
    assert body["is_active"] is True


def test_ledger_lists_newest_first_with_links(api, business):
    grant = credits_grant(business=business, credits=10, package="test")
    credits_deduct(business=business, amount="2.50", kind="usage")

    body = api.get(LEDGER).json()

    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    usage, granted = body["results"]
    assert (usage["kind"], usage["amount"], usage["balance_after"]) == ("usage", -2.5, 7.5)
    assert usage["purchase_reference"] is None and usage["transaction_id"] is None
    assert (granted["kind"], granted["amount"]) == ("grant", 10)
    assert granted["purchase_reference"] == grant.payment_reference
    assert set(usage) == {
        "id",
        "kind",
        "amount",
        "balance_after",
        "purchase_reference",
        "transaction_id",
        "created_at",
    }


def test_ledger_pages_with_limit_and_offset(api, business):
    for amount in range(1, 6):
        credits_add(business=business, amount=amount, kind="grant")

    first = api.get(LEDGER, {"limit": 2}).json()
    last = api.get(LEDGER, {"limit": 2, "offset": 4}).json()

    assert first["count"] == 5 and [e["amount"] for e in first["results"]] == [5, 4]
    assert "offset=2" in first["next"]
    assert [e["amount"] for e in last["results"]] == [1] and last["next"] is None


def test_one_business_never_sees_another_business_balance_or_ledger(api, business):
    other_owner = make_user()
    other = make_business(owner=other_owner)
    credits_grant(business=other, credits=99, package="test")
    credits_grant(business=business, credits=1, package="test")

    mine = api.get(LEDGER).json()
    theirs = token_client(other_owner).get(LEDGER).json()

    assert api.get(BALANCE).json()["balance"] == 1
    assert [e["amount"] for e in mine["results"]] == [1]
    assert [e["amount"] for e in theirs["results"]] == [99]
    assert api.get(BALANCE, HTTP_X_BUSINESS_ID=str(other.id)).status_code == 404
    assert api.get(LEDGER, HTTP_X_BUSINESS_ID=str(other.id)).status_code == 404


def test_packages_lists_active_packages_in_display_order(api):
    CreditPackage.objects.filter(code="starter").update(is_active=False)

    response = api.get(PACKAGES)

    assert response.status_code == 200
    assert [p["code"] for p in response.json()] == ["value", "premium"]
    assert response.json()[0] == {
        "code": "value",
        "name": "Value",
        "description": "80 AI credits plus 20 bonus credits.",
        "price": 80.0,
        "currency": "GHS",
        "credits": 80.0,
        "bonus_credits": 20.0,
        "total_credits": 100.0,
        "savings_percent": 25,
    }


@pytest.mark.parametrize("path", [BALANCE, LEDGER, PACKAGES])
def test_credit_endpoints_need_a_token(client, path):
    assert client.get(path).status_code == 401
