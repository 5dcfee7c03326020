from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ai_features.credits.credits import credits_add, credits_expire
from ai_features.credits.grants import credits_grant
from ai_features.models import BusinessAICredits, CreditPackage
from testing.clients import token_client
from testing.credits import deduct_credits
from testing.factories import BusinessFactory, PurchaseFactory, UserFactory

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


def test_balance_after_expiry_keeps_the_past_date_inactive_at_zero(api, business):
    """Issue 19 item 9: `expires_at` went null once the credits expired."""
    credits_grant(business=business, credits=Decimal("50"), package="test")
    expired = timezone.now() - timedelta(days=1)
    BusinessAICredits.objects.filter(business=business).update(expires_at=expired)
    assert credits_expire(business=business)

    body = api.get(BALANCE).json()

    assert (body["balance"], body["is_active"]) == (0, False)
    assert parse_datetime(body["expires_at"]) == expired


def test_ledger_lists_newest_first_with_links(api, business):
    grant = credits_grant(business=business, credits=10, package="test")
    deduct_credits(business, "2.50", kind="usage")

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
    other_owner = UserFactory()
    other = BusinessFactory(owner=other_owner)
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
        "prices": [{"currency": "GHS", "amount": 80.0, "gateway": "paystack"}],
    }


def test_a_package_with_a_stripe_price_lists_it_beside_the_ghs_price(api, stripe_settings):
    CreditPackage.objects.filter(code="value").update(stripe_price="6.50")

    value = next(p for p in api.get(PACKAGES).json() if p["code"] == "value")

    assert (value["price"], value["currency"]) == (80.0, "GHS")  # the seed SPA's fields stay
    assert value["prices"] == [
        {"currency": "GHS", "amount": 80.0, "gateway": "paystack"},
        {"currency": "USD", "amount": 6.5, "gateway": "stripe"},
    ]


@pytest.mark.parametrize("path", [BALANCE, LEDGER, PACKAGES])
def test_credit_endpoints_need_a_token(client, path):
    assert client.get(path).status_code == 401


PURCHASES = "/ai/api/credits/purchases/"
ADMIN_PURCHASES = "/ai/api/admin/credits/purchases/"


def test_purchases_lists_the_business_own_newest_first_with_paging(api, business):
    first = PurchaseFactory(business=business, package="starter")
    second = PurchaseFactory(business=business, package="premium", status="failed")
    PurchaseFactory(business=BusinessFactory(), package="value")

    page = api.get(PURCHASES, {"limit": 1}).json()
    rest = api.get(PURCHASES, {"limit": 1, "offset": 1}).json()

    assert page["count"] == 2 and page["next"] and rest["next"] is None
    assert [page["results"][0]["id"], rest["results"][0]["id"]] == [second.id, first.id]
    assert page["results"][0] == {
        "id": second.id,
        "payment_reference": second.payment_reference,
        "package": "premium",
        "payment_method": "mobile_money",
        "payment_status": "failed",
        "amount_paid": 180.0,
        "total_tax": 31.5,
        "total_amount": 211.5,
        "currency": "GHS",
        "credits_purchased": 180.0,
        "bonus_credits": 70.0,
        "purchased_at": page["results"][0]["purchased_at"],
        "completed_at": None,
    }
    assert parse_datetime(page["results"][0]["purchased_at"]) == second.purchased_at


def test_admin_purchases_is_for_staff_only(api):
    response = api.get(ADMIN_PURCHASES)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_admin_purchases_lists_every_business_and_filters_by_status(business):
    staff = UserFactory(is_staff=True)
    PurchaseFactory(business=business, status="failed")
    completed = credits_grant(business=BusinessFactory(), credits=5, package="test")
    client = token_client(staff)

    everything = client.get(ADMIN_PURCHASES).json()
    only_completed = client.get(ADMIN_PURCHASES, {"status": "completed"}).json()
    bad = client.get(ADMIN_PURCHASES, {"status": "lost"})

    assert everything["count"] == 2
    assert [p["payment_reference"] for p in only_completed["results"]] == [
        completed.payment_reference
    ]
    assert only_completed["results"][0]["business_id"] == completed.business_id
    assert bad.status_code == 400 and "status" in bad.json()


def test_an_offset_beyond_any_database_limit_is_a_clear_400_not_a_crash(api, business):
    # Regression (found by the fuzz test): OFFSET 2640734878397 overflowed an integer. Offsets
    # stop at 10,000 now (deeper pages are read by cursor).
    credits_grant(business=business, credits=1, package="test")

    response = api.get(LEDGER, {"offset": "2640734878397"})

    assert response.status_code == 400 and response.json()["code"] == "offset_too_deep"


def test_a_stripe_price_is_not_offered_while_stripe_is_not_configured(api, settings):
    # Regression: the demo page offered card payment that then answered 503.
    settings.STRIPE_SECRET_KEY = ""
    CreditPackage.objects.filter(code="value").update(stripe_price="6.50")

    value = next(p for p in api.get(PACKAGES).json() if p["code"] == "value")

    assert [price["gateway"] for price in value["prices"]] == ["paystack"]
