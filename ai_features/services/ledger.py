"""The ledger invariant: for every business, the balance equals the sum of its ledger amounts."""

from decimal import Decimal

from django.db.models import QuerySet, Sum

from accounts.models import Business
from ai_features.models import BusinessAICredits, CreditLedgerEntry
from ai_features.services.money import ZERO


def ledger_mismatches() -> list[tuple[Business, Decimal, Decimal]]:
    """(business, balance, ledger sum) for every business where the two differ."""
    balances = dict(
        BusinessAICredits.objects.filter(is_active=True).values_list("business_id", "balance")
    )
    sums = dict(
        CreditLedgerEntry.objects.values("business_id")
        .annotate(total=Sum("amount"))
        .values_list("business_id", "total")
    )
    zero = ZERO
    wrong = {
        business_id
        for business_id in balances.keys() | sums.keys()
        if balances.get(business_id, zero) != sums.get(business_id, zero)
    }
    businesses = Business.objects.in_bulk(wrong)
    return [
        (businesses[business_id], balances.get(business_id, zero), sums.get(business_id, zero))
        for business_id in sorted(wrong)
    ]


def ledger_entries(*, business: Business) -> QuerySet[CreditLedgerEntry]:
    """The business's balance changes, newest first."""
    return (
        CreditLedgerEntry.objects.filter(business=business)
        .select_related("purchase")
        .order_by("-created_at", "-id")
    )
