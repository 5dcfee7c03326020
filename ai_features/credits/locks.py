"""Row locks, taken in one order everywhere (design section 7, rule 1): the purchase row, then
the usage row, then the balance row. A money change that needs two of them takes them in that
order, so two changes can never wait on each other's locks.

Each helper only locks and reads (`lock_balance` with `create` may first insert the empty
row); what to change is the caller's business. Every one of them must run inside
`transaction.atomic()`, since a row lock lasts until the transaction ends.
"""

from accounts.models import Business
from ai_features.models import AICreditPurchase, AITransaction, BusinessAICredits


def lock_purchase(*, purchase_id: int) -> AICreditPurchase:
    """Lock a purchase row. Take it before any usage or balance row."""
    return AICreditPurchase.objects.select_for_update().get(pk=purchase_id)


def lock_usage(*, usage_id: int) -> AITransaction:
    """Lock a usage row (a hold being settled or released). Take it before the balance row."""
    return AITransaction.objects.select_for_update().get(pk=usage_id)


def lock_balance_row(*, row_id: int) -> BusinessAICredits:
    """Lock one balance row by id, active or not (a hold goes back to the row it came from)."""
    return BusinessAICredits.objects.select_for_update().get(pk=row_id)


def lock_balance(*, business: Business | int, create: bool = False) -> BusinessAICredits | None:
    """Lock the business's active balance row; with `create`, make it first if there is none.

    The insert ignores a conflict with the one-active-row constraint, so two first top-ups
    racing each other end up locking the same row instead of failing.
    """
    business_id = business if isinstance(business, int) else business.pk
    active = BusinessAICredits.objects.select_for_update().filter(
        business_id=business_id, is_active=True
    )
    row = active.first()
    if row is None and create:
        BusinessAICredits.objects.bulk_create(
            [BusinessAICredits(business_id=business_id, balance=0, is_active=True)],
            ignore_conflicts=True,
        )
    if row is None:
        # A fresh statement sees rows committed since the first one, including a row another
        # transaction created while we waited on the lock of the row it replaced.
        row = active.first()
    return row
