"""Settling a purchase from what Paystack says about it: verify, webhook and reconciliation all
come through `purchase_fulfil`, so a payment is credited exactly once whoever arrives first."""

import dataclasses
import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Business
from ai_features.models import AICreditPurchase, CreditLedgerEntry
from ai_features.payments.paystack import PaystackNotFound, PaystackService
from ai_features.payments.refunds import refunded_share
from ai_features.services.credits import balance_get, credits_add
from ai_features.services.locks import lock_purchase
from ai_features.services.money import ZERO, pesewas_parse, to_pesewas
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
Status = AICreditPurchase.Status

# Paystack's verdicts that will not turn into a payment. "abandoned" is not among them: Paystack
# also reports a checkout the customer has not finished yet as abandoned, so such a purchase
# stays pending for reconciliation to settle (see docs/payments.md).
GATEWAY_FAILED = {"failed", "reversed"}
SETTLED = {Status.COMPLETED, Status.REFUNDED}
UNPAID_AFTER = timedelta(hours=24)


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


def _mismatch(purchase: AICreditPurchase, data: dict) -> str:
    """Why a gateway `success` does not pay for this purchase, or "" when it does."""
    if str(data.get("reference", "")) != purchase.payment_reference:
        return "the reference does not match"
    try:
        paid = pesewas_parse(data.get("amount"))
    except ValueError:
        return "the amount is missing or not a whole positive number of pesewas"
    if paid != to_pesewas(purchase.total_amount):
        return f"paid {paid} pesewas, expected {to_pesewas(purchase.total_amount)}"
    if str(data.get("currency", "")).upper() != purchase.currency:
        return f"paid in {loggable(data.get('currency'), limit=20)}, expected {purchase.currency}"
    return ""


@transaction.atomic
def purchase_fulfil(*, purchase_id: int, data: dict, source: str) -> Settlement:
    """Credit a purchase once Paystack confirms it, exactly once; record any other verdict."""
    settled = _settle_locked(
        purchase=lock_purchase(purchase_id=purchase_id), data=data, source=source
    )
    purchase = settled.purchase
    logger.info(
        "payment verdict reference=%s gateway_status=%s outcome=%s status=%s amount=%s %s via=%s",
        purchase.payment_reference,
        loggable(data.get("status"), limit=30),
        settled.outcome,
        purchase.payment_status,
        purchase.total_amount,
        purchase.currency,
        source,
    )
    return settled


def _settle_locked(*, purchase: AICreditPurchase, data: dict, source: str) -> Settlement:
    if purchase.payment_status in SETTLED:
        return Settlement(Outcome.ALREADY_PROCESSED, purchase, "Payment already processed")
    gateway_status = str(data.get("status", "")).lower()
    purchase.gateway_status = gateway_status[:30]
    purchase.gateway_response = data
    fields = ["gateway_status", "gateway_response"]

    if gateway_status == "success":
        problem = _mismatch(purchase, data)
        if not problem:
            return _credit(purchase, fields, source)
        logger.error(
            "payment does not match purchase reference=%s problem=%s via=%s",
            purchase.payment_reference,
            problem,
            source,
        )
        return _fail(purchase, fields, f"Payment does not match the purchase: {problem}.")

    if gateway_status in GATEWAY_FAILED:
        reason = data.get("gateway_response") or f"Payment {gateway_status}"
        return _fail(purchase, fields, f"Payment {gateway_status}: {reason}")
    purchase.save(update_fields=fields)
    if gateway_status == "abandoned":
        return Settlement(Outcome.FAILED, purchase, "Payment was not completed.")
    return Settlement(Outcome.PENDING, purchase, "Payment is still being processed.")


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


def purchase_verify(*, business: Business, reference: str) -> Settlement:
    """Ask Paystack about one of the business's purchases and settle it."""
    purchase = AICreditPurchase.objects.filter(
        business=business, payment_reference=reference
    ).first()
    if purchase is None:
        return Settlement(Outcome.NOT_FOUND, None, "Purchase not found")
    if purchase.payment_status not in SETTLED:
        try:
            data = PaystackService().verify_transaction(reference=reference)
        except PaystackNotFound:  # the checkout was never opened at Paystack
            return Settlement(
                Outcome.FAILED, purchase, "Paystack has no payment for this purchase."
            )
        settlement = purchase_fulfil(purchase_id=purchase.pk, data=data, source="verify")
    else:
        settlement = Settlement(Outcome.ALREADY_PROCESSED, purchase, "Payment already processed")
    if settlement.outcome in {Outcome.CREDITED, Outcome.ALREADY_PROCESSED}:
        balance = balance_get(business=business)["balance"]
        return dataclasses.replace(settlement, balance=balance)
    return settlement


def purchase_reconcile(*, purchase: AICreditPurchase, now: datetime | None = None) -> Outcome:
    """Settle a purchase left pending; fail it once it has gone unpaid for 24 hours."""
    now = now or timezone.now()
    try:
        data = PaystackService().verify_transaction(reference=purchase.payment_reference)
    except PaystackNotFound:  # initialize never reached Paystack
        settlement = Settlement(Outcome.PENDING, purchase)
    else:
        settlement = purchase_fulfil(purchase_id=purchase.pk, data=data, source="reconcile")
    if settlement.outcome != Outcome.CREDITED and purchase.purchased_at <= now - UNPAID_AFTER:
        return _fail_if_still_pending(purchase_id=purchase.pk) or settlement.outcome
    return settlement.outcome


@transaction.atomic
def _fail_if_still_pending(*, purchase_id: int) -> Outcome | None:
    purchase = lock_purchase(purchase_id=purchase_id)
    if purchase.payment_status != Status.PENDING:
        return None
    purchase.payment_status = Status.FAILED
    purchase.failure_reason = "abandoned: still unpaid 24 hours after checkout started"
    purchase.save(update_fields=["payment_status", "failure_reason"])
    return Outcome.FAILED
