from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.credits.credits import credits_add, credits_amount_checked
from ai_features.models import AICreditPurchase, CreditLedgerEntry


@transaction.atomic
def credits_grant(
    *,
    business: Business,
    credits,
    bonus_credits=Decimal("0"),
    package: str,
    user=None,
) -> AICreditPurchase:
    """Give a business free credits, recorded as a completed, unpaid `admin_grant` purchase."""
    credits = credits_amount_checked(credits)
    purchase = AICreditPurchase.objects.create_with_reference(
        business=business,
        user=user,
        gateway=AICreditPurchase.Gateway.ADMIN,
        package=package,
        amount_paid=Decimal("0"),
        total_tax=Decimal("0"),
        total_amount=Decimal("0"),
        currency=settings.AI_CREDIT_CURRENCY,
        credits_purchased=credits,
        bonus_credits=Decimal(bonus_credits),
        payment_status=AICreditPurchase.PaymentStatus.COMPLETED,
        payment_method=AICreditPurchase.PaymentMethod.ADMIN_GRANT,
        completed_at=timezone.now(),  # the constraint wants one at insert; made exact below
    )
    # `purchased_at` is auto_now_add, set by the insert itself, so a time taken before it is
    # earlier: the grant completes, and its expiry clock starts, at the moment it was made.
    now = purchase.completed_at = purchase.purchased_at
    purchase.save(update_fields=["completed_at"])
    credits_add(
        business=business,
        amount=purchase.total_credits,
        kind=CreditLedgerEntry.Kind.GRANT,
        purchase=purchase,
        now=now,
    )
    return purchase
