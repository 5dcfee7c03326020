"""Settling a purchase from what its gateway says: verify, webhooks and reconciliation all come
through `purchase_fulfil`, so a payment is credited exactly once whoever arrives first, and
whichever gateway took it."""

import dataclasses
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Business
from ai_features.credits.credits import balance_get, credits_add
from ai_features.credits.locks import lock_purchase
from ai_features.credits.money import ZERO, to_minor_units
from ai_features.models import AICreditPurchase, CreditLedgerEntry
from ai_features.payments.gateways import (
    Verdict,
    VerdictStatus,
    gateway_for,
    returned_checkout,
)
from ai_features.payments.refunds import refunded_share
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Status = AICreditPurchase.PaymentStatus
SETTLED = {Status.COMPLETED, Status.REFUNDED}


class Outcome(enum.StrEnum):
    CREDITED = "credited"
    ALREADY_PROCESSED = "already_processed"
    PENDING = "pending"
    FAILED = "failed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Settlement:
    outcome: Outcome
    purchase: AICreditPurchase | None
    message: str = ""
    balance: Decimal | None = None
    credits_added: Decimal | None = None


def _mismatch(purchase: AICreditPurchase, verdict: Verdict) -> str:
    """Why a gateway's "paid" does not pay for this purchase, or "" when it does."""
    if verdict.reference != purchase.payment_reference:
        return "the reference does not match"
    if verdict.amount_minor is None:
        return "the amount is missing or not a whole positive number of minor units"
    expected = to_minor_units(purchase.total_amount)
    if verdict.amount_minor != expected:
        return f"paid {verdict.amount_minor} minor units, expected {expected}"
    if verdict.currency != purchase.currency:
        return f"paid in {loggable(verdict.currency, limit=20)}, expected {purchase.currency}"
    return ""


@transaction.atomic
def purchase_fulfil(*, purchase_id: int, verdict: Verdict, source: str) -> Settlement:
    """Credit a purchase once its gateway confirms the payment, exactly once; record any other
    verdict."""
    settled = _settle_locked(
        purchase=lock_purchase(purchase_id=purchase_id), verdict=verdict, source=source
    )
    purchase = settled.purchase
    logger.info(
        "payment verdict reference=%s gateway_status=%s outcome=%s status=%s amount=%s %s via=%s",
        purchase.payment_reference,
        loggable(verdict.gateway_status, limit=30),
        settled.outcome,
        purchase.payment_status,
        purchase.total_amount,
        purchase.currency,
        source,
    )
    return settled


def _settle_locked(*, purchase: AICreditPurchase, verdict: Verdict, source: str) -> Settlement:
    if purchase.payment_status in SETTLED:
        return Settlement(Outcome.ALREADY_PROCESSED, purchase, "Payment already processed")
    purchase.gateway_status = verdict.gateway_status[:30]
    purchase.gateway_response = verdict.raw
    fields = ["gateway_status", "gateway_response"]
    if verdict.payment_intent_id:  # what the gateway's refunds will name
        purchase.payment_intent_id = verdict.payment_intent_id[:255]
        fields.append("payment_intent_id")

    if verdict.status == VerdictStatus.PAID:
        problem = _mismatch(purchase, verdict)
        if not problem:
            return _credit(purchase, fields, source)
        logger.error(
            "payment does not match purchase reference=%s problem=%s via=%s",
            purchase.payment_reference,
            problem,
            source,
        )
        return _fail(purchase, fields, f"Payment does not match the purchase: {problem}.")
    if verdict.status == VerdictStatus.FAILED:
        return _fail(purchase, fields, verdict.reason or "Payment failed.")
    purchase.save(update_fields=fields)
    if verdict.status == VerdictStatus.PENDING:
        return Settlement(Outcome.PENDING, purchase, verdict.reason or "Payment is in progress.")
    # Not completed (yet): the answer is "failed", but the purchase stays pending, since the
    # payer may still finish the same checkout.
    return Settlement(Outcome.FAILED, purchase, verdict.reason or "Payment was not completed.")


def _credit(purchase: AICreditPurchase, fields: list[str], source: str) -> Settlement:
    """Complete a locked purchase and add its credits, less any refunded before crediting."""
    now = timezone.now()
    refunded = purchase.refunds.aggregate(total=Sum("amount"))["total"] or ZERO
    credits = purchase.total_credits - refunded_share(purchase, refunded)
    purchase.payment_status = Status.REFUNDED if refunded else Status.COMPLETED
    purchase.completed_at = now
    purchase.failure_reason = ""
    purchase.save(update_fields=[*fields, "payment_status", "completed_at", "failure_reason"])
    if credits > 0:
        credits_add(
            business=purchase.business,
            amount=credits,
            kind=CreditLedgerEntry.Kind.PURCHASE,
            purchase=purchase,
            now=now,
        )
    logger.info(
        "purchase credited reference=%s amount=%s %s credits=%s refunded_before=%s via=%s",
        purchase.payment_reference,
        purchase.total_amount,
        purchase.currency,
        credits,
        refunded,
        source,
    )
    message = "Payment verified and credits added"
    return Settlement(Outcome.CREDITED, purchase, message, credits_added=credits)


def _fail(purchase, fields, reason: str) -> Settlement:
    purchase.payment_status = Status.FAILED
    purchase.failure_reason = reason
    purchase.save(update_fields=[*fields, "payment_status", "failure_reason"])
    return Settlement(Outcome.FAILED, purchase, reason)


def purchase_verify(
    *, business: Business, reference: str | None = None, session_id: str | None = None
) -> Settlement:
    """Ask the gateway about one of the business's purchases (by our reference, or by the
    gateway's own checkout id: Stripe's session id) and settle it."""
    found = AICreditPurchase.objects.filter(business=business)
    if reference:
        found = found.filter(payment_reference=reference)
    else:
        found = found.filter(returned_checkout(session_id or "\0"))
    purchase = found.first()
    if purchase is None:
        return Settlement(Outcome.NOT_FOUND, None, "Purchase not found")
    if purchase.payment_status not in SETTLED:
        verdict = gateway_for(purchase.gateway).verdict_fetch(purchase=purchase)
        if verdict.status == VerdictStatus.UNKNOWN:
            return Settlement(Outcome.FAILED, purchase, verdict.reason)
        settlement = purchase_fulfil(purchase_id=purchase.pk, verdict=verdict, source="verify")
    else:
        settlement = Settlement(Outcome.ALREADY_PROCESSED, purchase, "Payment already processed")
    if settlement.outcome in {Outcome.CREDITED, Outcome.ALREADY_PROCESSED}:
        balance = balance_get(business=business)["balance"]
        return dataclasses.replace(settlement, balance=balance)
    return settlement
