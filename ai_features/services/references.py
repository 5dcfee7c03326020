import secrets
import time

from django.db import IntegrityError, transaction

from ai_features.models import AICreditPurchase


def payment_reference_new() -> str:
    """`AI-CREDIT-<epoch ms>-<8 lowercase hex>`, as the seed's `uuid4().hex[:8]` makes them.

    Lookups match a reference exactly, so the uppercase ones issued before stay valid."""
    return f"AI-CREDIT-{int(time.time() * 1000)}-{secrets.token_hex(4)}"


def purchase_create(**fields) -> AICreditPurchase:
    """Create a purchase with a fresh reference, drawing again on the rare collision."""
    for _ in range(5):
        try:
            with transaction.atomic():
                return AICreditPurchase.objects.create(
                    payment_reference=payment_reference_new(), **fields
                )
        except IntegrityError as exc:
            if "payment_reference" not in str(exc):
                raise
    raise IntegrityError("Could not draw a unique payment reference in 5 tries")
