"""Charging AI features for credits (design section 9): a single-shot charge, or a hold that is
reserved before the provider call and settled or released after it."""

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Business
from ai_features.credits.credits import (
    HOLD_FIELDS,
    credits_amount_checked,
    credits_expire,
    credits_spend,
    debit_locked,
    debit_unsaved,
    hold_return_unsaved,
    is_expired,
    reserve_shrink_locked,
)
from ai_features.credits.locks import lock_balance, lock_balance_row, lock_usage
from ai_features.credits.money import ZERO
from ai_features.credits.rollup import rollup_fields, rollup_settled_late
from ai_features.errors import CreditsExpired, InvalidAmount, UnknownFeature
from ai_features.models import AIFeaturePrice, AITransaction, BusinessAICredits, CreditLedgerEntry

Kind = CreditLedgerEntry.Kind
Status = AITransaction.UsageStatus
PRICE_CACHE_SECONDS = 30
_prices: dict[str, tuple[float, Decimal]] = {}


def feature_price_get(feature: str) -> Decimal:
    """The feature's price; cached briefly, since every AI request asks. Unknown is an error."""
    cached = _prices.get(feature)
    if cached and time.monotonic() - cached[0] < PRICE_CACHE_SECONDS:
        return cached[1]
    price = (
        AIFeaturePrice.objects.filter(feature=feature, is_active=True)
        .values_list("credits", flat=True)
        .first()
    )
    if price is None:
        raise UnknownFeature(f"No price is set for the AI feature {feature!r}.")
    _prices[feature] = (time.monotonic(), price)
    return price


def feature_prices_forget() -> None:
    """Drop cached prices (after an edit, or between tests)."""
    _prices.clear()


def _amount_for(feature: str, credits, price: Decimal | None = None) -> Decimal:
    """The feature's price, or `credits`; either way the feature must have a price (never free,
    never unknown). A `price` the caller has already read for this call is not read again."""
    if price is None:
        price = feature_price_get(feature)
    return credits_amount_checked(price if credits is None else credits)


def _cost_checked(credits) -> Decimal:
    """An actual cost may be zero (nothing billable came back), but never negative."""
    try:
        is_zero = Decimal(str(credits)) == 0
    except ArithmeticError as exc:
        raise InvalidAmount() from exc
    return ZERO if is_zero else credits_amount_checked(credits)


def _expiring(spend):
    """Run a spend; if the balance turned out to be expired, apply the expiry, then re-raise.

    The spend's own atomic block (`credits_spend`'s) has been rolled back by then, and the
    expiry is applied in the caller's transaction (its own, when there is none), so it is kept.
    Nothing atomic may wrap the spend and the expiry together (a `transaction.atomic` above
    `@_expiring`): the error would roll the expiry back with it. test_billing.py's
    `test_a_refused_spend_keeps_the_forfeit_inside_the_callers_transaction` fails then."""

    @functools.wraps(spend)
    def wrapper(*, business, **kwargs):
        try:
            return spend(business=business, **kwargs)
        except CreditsExpired:
            credits_expire(business=business)
            raise

    return wrapper


@_expiring
def credits_charge(
    *,
    business: Business,
    user,
    feature: str,
    credits=None,
    tokens_used: int = 0,
    cost_to_us: Decimal = ZERO,
    processing_time_ms: int | None = None,
) -> AITransaction:
    """Charge one use of a feature (its price unless `credits` is given) and record it; an
    expired balance is forfeited and the charge refused."""
    amount = _amount_for(feature, credits)
    now = timezone.now()
    outcome = {
        "feature": feature,
        "credits_used": amount,
        "tokens_used": tokens_used,
        "cost_to_us": Decimal(str(cost_to_us)),
        "processing_time_ms": processing_time_ms,
        "status": Status.COMPLETED,
        "settled_at": now,
    }
    return credits_spend(
        business=business, user=user, amount=amount, now=now, held=False, values=outcome
    )


@_expiring
def credits_reserve(
    *, business: Business, user, feature: str, credits=None, price: Decimal | None = None
) -> AITransaction:
    """Hold `credits`, or the feature's price (`price` if the caller has read it already), before
    the provider call, as a pending transaction; an expired balance is forfeited and the hold
    refused."""
    amount = _amount_for(feature, credits, price)
    held = {"feature": feature, "credits_held": amount, "status": Status.PENDING}
    return credits_spend(
        business=business, user=user, amount=amount, now=timezone.now(), held=True, values=held
    )


def _hold_row_locked(usage: AITransaction) -> BusinessAICredits:
    """Lock the balance row the hold was taken from, active or not (once forfeited at expiry,
    it takes nothing back)."""
    if usage.balance_row_id is None:  # no hold is without one since migration 0014
        raise ValueError(f"hold {usage.pk} has no balance row")
    return lock_balance_row(row_id=usage.balance_row_id)


@transaction.atomic
def credits_settle(
    *,
    hold: AITransaction,
    credits=None,
    tokens_used: int = 0,
    cost_to_us: Decimal = ZERO,
    processing_time_ms: int | None = None,
    provider: dict | None = None,
) -> AITransaction:
    """Charge the actual cost of a held use, once: give back what the hold over-estimated
    (paying open reserves first); take any excess only if the balance allows, else cap at the
    hold and record what went uncharged. A hold released before it settles is charged afresh."""
    actual = None if credits is None else _cost_checked(credits)
    now = timezone.now()
    outcome = {
        "tokens_used": tokens_used,
        "cost_to_us": Decimal(str(cost_to_us)),
        "processing_time_ms": processing_time_ms,
        "status": Status.COMPLETED,
        "success": True,
        "settled_at": now,
        **_provider_details_checked(provider),
    }
    usage = lock_usage(usage_id=hold.pk)
    if usage.status == Status.COMPLETED:  # settled before: charged once, never twice
        return usage
    actual = usage.credits_held if actual is None else actual
    late = usage.status != Status.PENDING
    was = rollup_fields(usage)
    if late:  # released (the cron gave up on it) before the work reported back: charge afresh
        charged = _settle_late(usage=usage, actual=actual, now=now)
    else:
        charged = _settle_held(usage=usage, actual=actual, now=now)
    usage.credits_used = charged
    for field, value in outcome.items():
        setattr(usage, field, value)
    usage.save(update_fields=SETTLED_FIELDS)
    if late:  # its day may be rolled up already
        rollup_settled_late(usage=usage, before=was)
    return usage


PROVIDER_FIELDS = {"model", "prompt_tokens", "completion_tokens", "provider_request_id"}
# What a settle or a release writes to the usage row.
SETTLED_FIELDS = [
    "status",
    "success",
    "credits_used",
    "credits_uncharged",
    "error_message",
    "settled_at",
    "tokens_used",
    "cost_to_us",
    "processing_time_ms",
    *sorted(PROVIDER_FIELDS),
]


def _provider_details_checked(provider: dict | None) -> dict:
    """What the AI provider reported about the call (model, token split, its request id)."""
    for field in provider or {}:
        if field not in PROVIDER_FIELDS:
            raise ValueError(f"{field!r} is not a provider detail")
    return dict(provider or {})


def _settle_held(*, usage: AITransaction, actual: Decimal, now) -> Decimal:
    row = _hold_row_locked(usage)
    held = usage.credits_held
    row.held -= held
    charged = held
    if not row.is_active:  # forfeited at expiry with the hold inside it: nothing to return or add
        usage.credits_uncharged = max(actual - held, ZERO)
    elif actual < held:
        hold_return_unsaved(row=row, amount=held - actual, usage=usage)
        charged = actual
    elif actual > held:
        extra = actual - held
        if not is_expired(row, now) and row.balance >= extra:
            debit_unsaved(row=row, amount=extra, kind=Kind.USAGE, usage=usage)
            charged = actual
        else:
            usage.credits_uncharged = extra
    # What it kept was spent: a reserve it would have paid had it come back becomes shortfall.
    reserve_shrink_locked(row=row)
    row.save(update_fields=HOLD_FIELDS)
    usage.balance_row = row  # as it is now, for the caller's answer
    return charged


def _settle_late(*, usage: AITransaction, actual: Decimal, now) -> Decimal:
    row = lock_balance(business=usage.business_id)
    if actual and row is not None and not is_expired(row, now) and row.balance >= actual:
        debit_locked(row=row, amount=actual, kind=Kind.USAGE, usage=usage)
        usage.error_message = "Settled after its hold had been released; charged then."
        return actual
    usage.credits_uncharged = actual
    usage.error_message = "Settled after its hold had been released; the balance could not pay."
    return ZERO


@transaction.atomic
def credits_release(
    *,
    hold: AITransaction,
    error_message: str,
    tokens_used: int = 0,
    cost_to_us: Decimal = ZERO,
    processing_time_ms: int | None = None,
    provider: dict | None = None,
) -> AITransaction:
    """Return a hold after an error or timeout; the use is recorded as failed, with whatever the
    provider still billed us for it."""
    usage = lock_usage(usage_id=hold.pk)
    if usage.status != Status.PENDING:
        return usage
    row = _hold_row_locked(usage)
    row.held -= usage.credits_held
    if row.is_active:
        hold_return_unsaved(row=row, amount=usage.credits_held, usage=usage)
    else:
        error_message += " (the hold was forfeited with the expired balance)"
    row.save(update_fields=HOLD_FIELDS)
    usage.status = Status.RELEASED
    usage.success = False
    usage.credits_used = ZERO
    usage.error_message = error_message[:1000]
    usage.settled_at = timezone.now()
    usage.tokens_used = tokens_used
    usage.cost_to_us = Decimal(str(cost_to_us))
    usage.processing_time_ms = processing_time_ms
    for field, value in _provider_details_checked(provider).items():
        setattr(usage, field, value)
    usage.save(update_fields=SETTLED_FIELDS)
    return usage


@dataclass
class Hold:
    """What a feature reports about its provider call; settled when the `with` block ends."""

    usage: AITransaction
    credits: Decimal | None = None
    tokens_used: int = 0
    cost_to_us: Decimal = ZERO
    processing_time_ms: int | None = None

    def report(self, *, credits=None, tokens_used=0, cost_to_us=ZERO, processing_time_ms=None):
        if credits is not None:
            _cost_checked(credits)  # raise inside the `with` block, where it releases the hold
        if tokens_used < 0 or Decimal(str(cost_to_us)) < 0:
            raise InvalidAmount("tokens_used and cost_to_us must not be negative.")
        self.credits = credits
        self.tokens_used = tokens_used
        self.cost_to_us = cost_to_us
        self.processing_time_ms = processing_time_ms


@contextmanager
def credits_hold(*, business: Business, user, feature: str, credits=None) -> Iterator[Hold]:
    """`with credits_hold(...) as hold:` reserve, run the provider call, settle; any exception
    inside releases the hold and propagates."""
    hold = Hold(credits_reserve(business=business, user=user, feature=feature, credits=credits))
    started = time.monotonic()
    try:
        yield hold
    except BaseException as exc:
        credits_release(hold=hold.usage, error_message=f"{type(exc).__name__}: {exc}")
        raise
    if hold.processing_time_ms is None:
        hold.processing_time_ms = int((time.monotonic() - started) * 1000)
    try:
        hold.usage = credits_settle(
            hold=hold.usage,
            credits=hold.credits,
            tokens_used=hold.tokens_used,
            cost_to_us=hold.cost_to_us,
            processing_time_ms=hold.processing_time_ms,
        )
    except Exception as exc:  # a bad report must not leave the credits held until the cron
        credits_release(hold=hold.usage, error_message=f"Settle failed: {exc!r}")
        raise
