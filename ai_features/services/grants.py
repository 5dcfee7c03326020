from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.models import AICreditPurchase, CreditLedgerEntry
from ai_features.services.credits import credits_add, credits_amount_checked


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
    now = timezone.now()
    purchase = AICreditPurchase.objects.create_with_reference(
        business=business,
        user=user,
        package=package,
        amount_paid=Decimal("0"),
        total_tax=Decimal("0"),
        total_amount=Decimal("0"),
        currency=settings.AI_CREDIT_CURRENCY,
        credits_purchased=credits,
        bonus_credits=Decimal(bonus_credits),
        payment_status=AICreditPurchase.PaymentStatus.COMPLETED,
        payment_method=AICreditPurchase.PaymentMethod.ADMIN_GRANT,
        completed_at=now,
    )
    credits_add(
        business=business,
        amount=purchase.total_credits,
        kind=CreditLedgerEntry.Kind.GRANT,
        purchase=purchase,
        now=now,
    )
    return purchase
