"""`Idempotency-Key` on purchases and AI feature calls, one mechanism for both (issue 20, item 5).

A repeat with the same key and the same body within 24 hours gets the first request's answer
again: the same purchase, without a second checkout; the same feature answer, without a second
charge or provider call. The same key with another body is 409 `idempotency_key_reused`; a
repeat while the first request is still running is 409 `idempotency_request_in_progress`. A key
is one user's, in one scope: the same string in a purchase and a feature call does not collide.
After 24 hours the key is free again (as Stripe's are) and `expire_ai_credits` deletes it."""

import hashlib
import json
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.models import KEY_LIFETIME, AICreditPurchase, IdempotencyKey
from pos.errors import Conflict

Scope = IdempotencyKey.Scope

# A claim with no answer after this long belongs to a request that died (a gateway's or the
# provider's timeout and retries are far shorter): a new request may take the key over.
ABANDONED_AFTER = timedelta(minutes=5)

# Each scope's own wording, as each endpoint has always answered.
REUSED = {
    Scope.PURCHASE: "This Idempotency-Key was already used with a different request body.",
    Scope.FEATURE: "This Idempotency-Key was already used with a different request.",
}
IN_PROGRESS = "A request with this Idempotency-Key is still in progress; retry shortly."


def request_fingerprint(**request) -> str:
    """The SHA-256 of the request's fields as canonical JSON, compared on a repeat."""
    canonical = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _unanswered(claim: IdempotencyKey) -> bool:
    return claim.purchase_id is None and claim.answer is None


def _replayable(claim: IdempotencyKey) -> bool:
    if claim.scope == Scope.PURCHASE:
        # A purchase without a checkout URL has nothing a client could pay through yet.
        return claim.purchase_id is not None and bool(claim.purchase.authorization_url)
    return claim.answer is not None


def _free(claim: IdempotencyKey, now: datetime) -> bool:
    """Past its 24 hours, or claimed by a request that died."""
    if claim.expires_at <= now:
        return True
    return _unanswered(claim) and claim.created_at < now - ABANDONED_AFTER


def idempotency_claim(
    *,
    scope: Scope,
    user: AbstractBaseUser,
    business: Business,
    key: str,
    fingerprint: str,
    feature: str = "",
) -> IdempotencyKey:
    """This request's new claim on the key, or the answered claim of an earlier one (a replay)."""
    now = timezone.now()
    existing = IdempotencyKey.objects.filter(scope=scope, user=user, key=key).first()
    if existing is not None and _free(existing, now):
        stale = IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at)
        if existing.expires_at > now:  # taken over: not if its answer arrived meanwhile
            stale = stale.filter(purchase__isnull=True, answer__isnull=True)
        stale.delete()
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    scope=scope,
                    user=user,
                    business=business,
                    key=key,
                    fingerprint=fingerprint,
                    feature=feature,
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                )
        except IntegrityError:  # another request claimed it a moment ago
            existing = IdempotencyKey.objects.get(scope=scope, user=user, key=key)
    if existing.fingerprint != fingerprint:
        raise Conflict(REUSED[scope], code="idempotency_key_reused")
    if not _replayable(existing):
        raise Conflict(IN_PROGRESS, code="idempotency_request_in_progress")
    return existing


def idempotency_answer_store(
    *,
    claim: IdempotencyKey,
    purchase: AICreditPurchase | None = None,
    answer: dict | None = None,
    usage_id: int | None = None,
) -> None:
    """Keep what the claimed request answered (a purchase, or a feature's answer), for repeats."""
    if claim.scope == Scope.PURCHASE:
        changes = {"purchase": purchase}
    else:
        changes = {"answer": answer, "usage_id": usage_id}
    IdempotencyKey.objects.filter(pk=claim.pk).update(**changes)


def idempotency_forget(*, claim: IdempotencyKey) -> None:
    """Drop an unanswered claim (the request failed, nothing to replay): the key may be retried."""
    IdempotencyKey.objects.filter(pk=claim.pk, purchase__isnull=True, answer__isnull=True).delete()


def idempotency_keys_purge(*, now: datetime) -> dict[str, int]:
    """Delete expired keys and claims left by requests that died; how many went, per scope."""
    # A feature's stored answer holds customer data and outputs: it goes with its key.
    gone = IdempotencyKey.objects.filter(expires_at__lte=now) | IdempotencyKey.objects.filter(
        purchase__isnull=True, answer__isnull=True, created_at__lte=now - ABANDONED_AFTER
    )
    return {scope: gone.filter(scope=scope).delete()[0] for scope in Scope.values}
