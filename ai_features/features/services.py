"""Running an AI feature (design section 12): hold its price, call the provider, then settle
at the price or release the hold. A failed call is recorded and charges nothing."""

import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from accounts.models import Business
from ai_features import idempotency
from ai_features.credits.billing import (
    credits_release,
    credits_reserve,
    credits_settle,
    feature_price_get,
)
from ai_features.credits.credits import balance_get, balance_shown
from ai_features.errors import (
    CreditsExpired,
    FeatureDisabled,
    InsufficientCredits,
    ProviderNotConfigured,
    UnknownFeature,
)
from ai_features.features.base import Feature
from ai_features.features.provider import Completion, UnusableAnswer, provider_client
from ai_features.features.registry import FEATURES
from ai_features.models import AIFeaturePrice, AITransaction
from pos.errors import DomainError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureListing:
    code: str
    name: str
    credits: object
    enabled: bool


def features_list() -> list[FeatureListing]:
    """Every AI feature, its price, and whether it can be used now."""
    prices = {row.feature: row for row in AIFeaturePrice.objects.filter(feature__in=FEATURES)}
    configured = bool(settings.AI_PROVIDER_API_KEY)
    listing = []
    for code, feature in FEATURES.items():
        price = prices.get(code)
        listing.append(
            FeatureListing(
                code=code,
                name=feature.name,
                credits=price.credits if price else None,
                enabled=configured and price is not None and price.is_active,
            )
        )
    return listing


def feature_run(
    *, business: Business, user, feature: Feature, data: dict, idempotency_key: str | None = None
) -> dict:
    """One metered use of a feature; its answer (replayed as stored for a repeated key)."""
    if not settings.AI_PROVIDER_API_KEY:
        raise ProviderNotConfigured()
    try:
        price = feature_price_get(feature.code)  # read once: the hold is taken at this price
    except UnknownFeature as exc:
        raise FeatureDisabled() from exc
    if not idempotency_key:
        return _metered_call(business=business, user=user, feature=feature, data=data, price=price)
    claim = idempotency.idempotency_claim(
        scope=idempotency.Scope.FEATURE,
        user=user,
        business=business,
        key=idempotency_key,
        feature=feature.code,
        fingerprint=idempotency.request_fingerprint(
            business=business.pk, feature=feature.code, data=data
        ),
    )
    if claim.answer is not None:
        return claim.answer
    try:
        answer = _metered_call(
            business=business, user=user, feature=feature, data=data, price=price
        )
    except BaseException:
        idempotency.idempotency_forget(claim=claim)
        raise
    idempotency.idempotency_answer_store(
        claim=claim, answer=answer, usage_id=answer["transaction_id"]
    )
    return answer


def _metered_call(
    *, business: Business, user, feature: Feature, data: dict, price: Decimal
) -> dict:
    messages = feature.messages_for(data)  # built first: a bad input fails before any hold
    hold = _reserve(business=business, user=user, feature=feature.code, price=price)
    started = time.monotonic()
    try:
        completion = provider_client().chat_complete(
            messages=messages, json_schema=feature.json_schema
        )
        result = feature.result_from(completion)
    except DomainError as exc:
        spent = exc.completion if isinstance(exc, UnusableAnswer) else None
        _release(hold=hold, reason=exc.detail, started=started, completion=spent)
        raise
    except BaseException:
        _release(hold=hold, reason="The call failed inside this server.", started=started)
        raise
    usage = credits_settle(
        hold=hold,
        tokens_used=completion.total_tokens,
        cost_to_us=completion.cost_usd,
        processing_time_ms=_elapsed_ms(started),
        provider=_provider_details(completion),
    )
    logger.info(
        "feature used feature=%s transaction=%s tokens=%s ms=%s",
        feature.code,
        usage.pk,
        usage.tokens_used,
        usage.processing_time_ms,
    )
    return {
        "feature": feature.code,
        "result": result,
        # Text, so the answer can be stored as JSON for replays; the serializer renders numbers.
        "credits_charged": str(usage.credits_used),
        "balance": str(_balance_after(usage, business)),
        "transaction_id": usage.pk,
        "tokens_used": usage.tokens_used,
    }


def _balance_after(usage: AITransaction, business: Business) -> Decimal:
    """The balance once the call settled: the row it settled on, when that is still the
    business's active one (no query); else read afresh."""
    row = usage.balance_row if usage.balance_row_id else None
    if row is not None and row.is_active:
        return balance_shown(row=row)["balance"]
    return balance_get(business=business)["balance"]


def _reserve(*, business: Business, user, feature: str, price: Decimal) -> AITransaction:
    """Hold the price; a short or expired balance is a 402 that says what is missing."""
    try:
        return credits_reserve(business=business, user=user, feature=feature, price=price)
    except (InsufficientCredits, CreditsExpired) as exc:
        balance = balance_get(business=business)["balance"]
        raise type(exc)(balance=balance, price=price) from exc


def _release(
    *, hold: AITransaction, reason: str, started: float, completion: Completion | None = None
) -> None:
    spent = {}
    if completion is not None:  # the provider answered, and billed us, but it was unusable
        spent = {
            "tokens_used": completion.total_tokens,
            "cost_to_us": completion.cost_usd,
            "provider": _provider_details(completion),
        }
    usage = credits_release(
        hold=hold, error_message=reason, processing_time_ms=_elapsed_ms(started), **spent
    )
    logger.info("feature failed feature=%s transaction=%s", usage.feature, usage.pk)


def _provider_details(completion: Completion) -> dict:
    return {
        "model": completion.model,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "provider_request_id": completion.request_id,
    }


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
