from decimal import Decimal

import pytest

from ai_features.credits.credits import credits_expiry_for
from ai_features.credits.grants import credits_grant
from ai_features.models import BusinessAICredits, CreditLedgerEntry
from testing.credits import stored_balance

pytestmark = pytest.mark.django_db


def test_a_grant_is_a_completed_unpaid_admin_grant_purchase_with_a_ledger_entry(business):
    purchase = credits_grant(business=business, credits=80, bonus_credits=20, package="value")

    purchase.refresh_from_db()
    assert purchase.payment_method == "admin_grant"
    assert purchase.payment_status == "completed" and purchase.completed_at is not None
    assert purchase.total_amount == Decimal("0.00")
    assert purchase.payment_reference.startswith("AI-CREDIT-")
    entry = CreditLedgerEntry.objects.get(purchase=purchase)
    assert (entry.kind, entry.amount) == ("grant", Decimal("100.00"))
    assert stored_balance(business) == Decimal("100.00")


def test_a_grant_is_through_the_admin_gateway_and_completes_when_it_was_made(business):
    """Issue 19 item 8: it was stored as `paystack`, and completed before it was purchased."""
    purchase = credits_grant(business=business, credits=50, package="test")

    purchase.refresh_from_db()
    assert purchase.gateway == "admin"
    assert purchase.completed_at == purchase.purchased_at
    row = BusinessAICredits.objects.get(business=business, is_active=True)
    assert row.last_topped_up_at == purchase.purchased_at
    assert row.expires_at == credits_expiry_for(purchase.purchased_at)
