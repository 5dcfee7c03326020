from decimal import Decimal

import pytest

from ai_features.models import CreditLedgerEntry
from ai_features.services.grants import credits_grant
from conftest import stored_balance

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
