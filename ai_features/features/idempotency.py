"""`Idempotency-Key` on AI feature calls: the same key and body within 24 hours get the stored
answer again (no second charge, no second provider call); another body gets 409."""

import hashlib
import json
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ai_features.models import FeatureIdempotencyKey
from pos.errors import Conflict

REPLAY_WINDOW = timedelta(hours=24)
# A claim with no answer after this long belongs to a request that died (the provider's timeout
# and retries are far shorter): a new request may take the key over.
ABANDONED_AFTER = timedelta(minutes=5)


def request_fingerprint(**request) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stale(claim: FeatureIdempotencyKey, now: datetime) -> bool:
    if claim.answer is None:
        return claim.created_at < now - ABANDONED_AFTER
    return claim.created_at < now - REPLAY_WINDOW


def answer_claim(
    *, user, business, key: str, feature: str, fingerprint: str
) -> FeatureIdempotencyKey:
    """Claim the key for this request; a claim that already holds an answer is a replay."""
    now = timezone.now()
    existing = FeatureIdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is not None and _stale(existing, now):
        FeatureIdempotencyKey.objects.filter(
            pk=existing.pk, created_at=existing.created_at
        ).delete()
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                return FeatureIdempotencyKey.objects.create(
                    user=user, business=business, key=key, feature=feature, fingerprint=fingerprint
                )
        except IntegrityError:  # another request claimed it a moment ago
            existing = FeatureIdempotencyKey.objects.get(user=user, key=key)
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_key_reused",
        )
    if existing.answer is None:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            code="idempotency_request_in_progress",
        )
    return existing


def answer_store(*, claim: FeatureIdempotencyKey, answer: dict, usage_id: int) -> None:
    """Keep the answer for replays."""
    FeatureIdempotencyKey.objects.filter(pk=claim.pk).update(answer=answer, usage_id=usage_id)


def answer_forget(*, claim: FeatureIdempotencyKey) -> None:
    """Nothing was charged, so nothing is replayed: the client may retry with the same key."""
    FeatureIdempotencyKey.objects.filter(pk=claim.pk, answer__isnull=True).delete()


def answers_purge(*, now: datetime) -> int:
    """Delete stored answers (they hold customer data and outputs) once past the replay window,
    and claims left by requests that died; how many went."""
    deleted, _ = FeatureIdempotencyKey.objects.filter(created_at__lte=now - REPLAY_WINDOW).delete()
    abandoned, _ = FeatureIdempotencyKey.objects.filter(
        answer__isnull=True, created_at__lte=now - ABANDONED_AFTER
    ).delete()
    return deleted + abandoned
