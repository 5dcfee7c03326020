"""Reading and moving a business's credits in tests, through the core's own code."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ai_features.models import BusinessAICredits, CreditLedgerEntry


def ledger_sum(business) -> Decimal:
    """The sum of the business's ledger entries, which must equal its balance."""
    return sum(
        CreditLedgerEntry.objects.filter(business=business).values_list("amount", flat=True),
        Decimal("0.00"),
    )


def stored_balance(business) -> Decimal:
    """The business's active balance as stored, 0.00 when it has no balance row."""
    row = BusinessAICredits.objects.filter(business=business, is_active=True).first()
    return row.balance if row else Decimal("0.00")


def grant_credits(business, amount) -> None:
    """Top a business up through the real grant path (ledger entry included)."""
    from ai_features.credits.credits import credits_add

    credits_add(business=business, amount=Decimal(str(amount)), kind="grant")


def deduct_credits(business, amount, kind="usage"):
    """Take credits out through the core's own primitives (lock, check, debit, ledger), as
    every spend does; a test stand-in for a charge with no usage row."""
    from ai_features.credits.credits import credits_amount_checked, debit_locked, spendable_locked

    amount = credits_amount_checked(amount)
    with transaction.atomic():
        row = spendable_locked(business=business, amount=amount, now=timezone.now())
        return debit_locked(row=row, amount=amount, kind=kind)
