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
from ai_features.errors import CreditsExpired, InvalidAmount, UnknownFeature
from ai_features.models import AIFeaturePrice, AITransaction, CreditLedgerEntry
from ai_features.services.credits import (
    ZERO,
    credit_locked,
    credits_amount_checked,
    credits_expire,
    debit_locked,
    is_expired,
    spendable_locked,
)
from ai_features.services.locks import lock_balance, lock_transaction

Kind = CreditLedgerEntry.Kind
Status = AITransaction.Status
PRICE_CACHE_SECONDS = 30
_prices: dict[str, tuple[float, Decimal]] = {}


def feature_price(feature: str) -> Decimal:
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


def _amount_for(feature: str, credits) -> Decimal:
    return credits_amount_checked(feature_price(feature) if credits is None else credits)


def _cost_checked(credits) -> Decimal:
    """An actual cost may be zero (nothing billable came back), but never negative."""
    try:
        is_zero = Decimal(str(credits)) == 0
    except ArithmeticError as exc:
        raise InvalidAmount() from exc
    return ZERO if is_zero else credits_amount_checked(credits)


def _expiring(spend):
    """Run a spend; if the balance turned out to be expired, apply the expiry, then re-raise."""

    @functools.wraps(spend)
    def wrapper(*, business, **kwargs):
        try:
            return spend(business=business, **kwargs)
        except CreditsExpired:
            credits_expire(business=business)
            raise

    return wrapper


@_expiring
@transaction.atomic
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
    """Charge one use of a feature (its price unless `credits` is given) and record it."""
    amount = _amount_for(feature, credits)
    now = timezone.now()
    row = spendable_locked(business=business, amount=amount, now=now)
    usage = AITransaction.objects.create(
        business=business,
        user=user,
        feature=feature,
        credits_used=amount,
        tokens_used=tokens_used,
        cost_to_us=Decimal(str(cost_to_us)),
        processing_time_ms=processing_time_ms,
        status=Status.COMPLETED,
        settled_at=now,
    )
    debit_locked(row=row, amount=amount, kind=Kind.USAGE, transaction=usage)
    return usage


@_expiring
@transaction.atomic
def credits_reserve(*, business: Business, user, feature: str, credits=None) -> AITransaction:
    """Hold the estimated cost before the provider call, as a pending transaction."""
    amount = _amount_for(feature, credits)
    row = spendable_locked(business=business, amount=amount, now=timezone.now())
    hold = AITransaction.objects.create(
        business=business,
        user=user,
        feature=feature,
        credits_held=amount,
        status=Status.PENDING,
    )
    debit_locked(row=row, amount=amount, kind=Kind.USAGE, transaction=hold)
    return hold


@transaction.atomic
def credits_settle(
    *,
    hold: AITransaction,
    credits=None,
    tokens_used: int = 0,
    cost_to_us: Decimal = ZERO,
    processing_time_ms: int | None = None,
) -> AITransaction:
    """Charge the actual cost of a held use: refund any over-hold; take any excess only if the
    balance allows, else cap at the hold and record what went uncharged."""
    usage = lock_transaction(transaction_id=hold.pk)
    if usage.status != Status.PENDING:
        return usage
    actual = usage.credits_held if credits is None else _cost_checked(credits)
    now = timezone.now()
    row = lock_balance(business=usage.business_id)
    charged = usage.credits_held
    if actual < charged and row is not None:
        credit_locked(row=row, amount=charged - actual, kind=Kind.USAGE_RELEASE, transaction=usage)
        charged = actual
    elif actual > charged:
        extra = actual - charged
        if row is not None and not is_expired(row, now) and row.balance >= extra:
            debit_locked(row=row, amount=extra, kind=Kind.USAGE, transaction=usage)
            charged = actual
        else:
            usage.credits_uncharged = extra
    usage.credits_used = charged
    usage.tokens_used = tokens_used
    usage.cost_to_us = Decimal(str(cost_to_us))
    usage.processing_time_ms = processing_time_ms
    usage.status = Status.COMPLETED
    usage.settled_at = now
    usage.save()
    return usage


@transaction.atomic
def credits_release(*, hold: AITransaction, error_message: str) -> AITransaction:
    """Return a hold after an error or timeout; the use is recorded as failed."""
    usage = lock_transaction(transaction_id=hold.pk)
    if usage.status != Status.PENDING:
        return usage
    row = lock_balance(business=usage.business_id)
    if row is not None:  # an expired balance was forfeited whole, the hold with it
        credit_locked(
            row=row, amount=usage.credits_held, kind=Kind.USAGE_RELEASE, transaction=usage
        )
    usage.status = Status.RELEASED
    usage.success = False
    usage.credits_used = ZERO
    usage.error_message = error_message[:1000]
    usage.settled_at = timezone.now()
    usage.save()
    return usage


@dataclass
class Hold:
    """What a feature reports about its provider call; settled when the `with` block ends."""

    transaction: AITransaction
    credits: Decimal | None = None
    tokens_used: int = 0
    cost_to_us: Decimal = ZERO
    processing_time_ms: int | None = None

    def report(self, *, credits=None, tokens_used=0, cost_to_us=ZERO, processing_time_ms=None):
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
        credits_release(hold=hold.transaction, error_message=f"{type(exc).__name__}: {exc}")
        raise
    if hold.processing_time_ms is None:
        hold.processing_time_ms = int((time.monotonic() - started) * 1000)
    hold.transaction = credits_settle(
        hold=hold.transaction,
        credits=hold.credits,
        tokens_used=hold.tokens_used,
        cost_to_us=hold.cost_to_us,
        processing_time_ms=hold.processing_time_ms,
    )
