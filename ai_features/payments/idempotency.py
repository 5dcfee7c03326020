"""`Idempotency-Key` on purchase: a repeat with the same key and body gets the same purchase
back without a second checkout; the same key with another body gets 409."""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ai_features.models import AICreditPurchase, PurchaseIdempotencyKey
from pos.errors import Conflict

# Far longer than a purchase request can take (a gateway's timeout is seconds).
CLAIM_EXPIRES = timedelta(minutes=5)


def request_fingerprint(**request) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def purchase_claim(*, user, key: str, fingerprint: str) -> AICreditPurchase | None:
    """The purchase an earlier request with this key made, or None after claiming the key."""
    existing = PurchaseIdempotencyKey.objects.filter(user=user, key=key).first()
    if (
        existing is not None
        and existing.purchase_id is None
        and existing.created_at < timezone.now() - CLAIM_EXPIRES
    ):
        # A request that claimed the key and never finished (a crash): let this one take over.
        PurchaseIdempotencyKey.objects.filter(pk=existing.pk, purchase__isnull=True).delete()
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                PurchaseIdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
            return None
        except IntegrityError:
            existing = PurchaseIdempotencyKey.objects.get(user=user, key=key)
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
        )
    if existing.purchase_id is None or not existing.purchase.authorization_url:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            code="idempotency_request_in_progress",
        )
    return existing.purchase


def purchase_bind(*, user, key: str, purchase: AICreditPurchase) -> None:
    """Remember the purchase the claimed key made, for repeats."""
    PurchaseIdempotencyKey.objects.filter(user=user, key=key).update(purchase=purchase)


def claim_forget(*, user, key: str) -> None:
    """Nothing useful to replay (the checkout failed): the client may retry with the same key."""
    PurchaseIdempotencyKey.objects.filter(user=user, key=key).delete()
