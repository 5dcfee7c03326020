"""The Stripe stand-in's disputes (chargebacks), for the demo and the tests.

At Stripe a dispute is opened by the cardholder's bank (in test mode, by paying with a card that
is always disputed) and closed by the bank's decision, so opening and closing one with any
outcome are stand-in test helpers, named as Stripe names its own (`/v1/test_helpers/…`):

- `POST /v1/test_helpers/disputes` (`charge` or `payment_intent`, `amount?`, `reason?`) opens
  it: `charge.dispute.created`, then `charge.dispute.funds_withdrawn`;
- `POST /v1/test_helpers/disputes/{id}/close` (`status`: `won`, `lost` or `warning_closed`)
  closes it: `charge.dispute.closed`, then `charge.dispute.funds_reinstated` when won.

Stripe's own `POST /v1/disputes/{id}/close` (the merchant accepts the dispute: `lost`) and
`GET /v1/disputes/{id}` are answered too. Shapes follow shared/stripe/README.md section 9b.
"""

import logging

from django.db import transaction
from django.utils import timezone

from sandbox.stripe import shapes, webhooks
from sandbox.stripe.forms import (
    Params,
    StripeError,
    param_invalid,
    resource_missing,
    state_error,
)
from sandbox.stripe.models import StripeSandboxCharge, StripeSandboxDispute, stripe_id

logger = logging.getLogger(__name__)
Status = StripeSandboxDispute.Status

REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
CLOSING = (Status.WON, Status.LOST, Status.WARNING_CLOSED)


def _charge_locked(*, charge_id: str | None, intent_id: str | None) -> StripeSandboxCharge:
    charges = StripeSandboxCharge.objects.select_for_update(of=("self",)).select_related("session")
    if charge_id:
        charge = charges.filter(stripe_id=charge_id).first()
        if charge is None:
            raise resource_missing("charge", charge_id, "charge", http_status=400)
        if intent_id and charge.payment_intent_id != intent_id:
            raise param_invalid(
                "payment_intent", f"Charge {charge_id} does not belong to {intent_id}."
            )
        return charge
    charge = charges.filter(payment_intent_id=intent_id).first()
    if charge is None:
        raise resource_missing("payment_intent", intent_id, "payment_intent", http_status=400)
    return charge


def dispute_create(*, params: Params, request: dict | None) -> StripeSandboxDispute:
    """Open the dispute of a paid charge, for `amount` cents (at most the charge's amount) or
    what is left of it after refunds."""
    params.only("charge", "payment_intent", "amount", "reason")
    charge_id, intent_id = params.string("charge"), params.string("payment_intent")
    if not charge_id and not intent_id:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
            param="charge",
        )
    amount = params.integer("amount", minimum=1)
    reason = params.choice("reason", REASONS) or "fraudulent"
    with transaction.atomic():
        charge = _charge_locked(charge_id=charge_id, intent_id=intent_id)
        if StripeSandboxDispute.objects.filter(charge=charge).exists():
            raise state_error(
                f"Charge {charge.stripe_id} has already been disputed.", code="charge_disputed"
            )
        if amount is None:
            amount = charge.amount - charge.amount_refunded
        if amount <= 0:
            raise state_error(f"Charge {charge.stripe_id} has been fully refunded.")
        if amount > charge.amount:
            asked = shapes.amount_display(amount, charge.currency)
            paid = shapes.amount_display(charge.amount, charge.currency)
            raise param_invalid(
                "amount", f"The dispute amount ({asked}) is greater than the charge ({paid})."
            )
        dispute = StripeSandboxDispute.objects.create(
            stripe_id=stripe_id("dp_1"),
            charge=charge,
            amount=amount,
            currency=charge.currency,
            reason=reason,
        )
        _send(dispute, request, "charge.dispute.created", "charge.dispute.funds_withdrawn")
    logger.info("stripe sandbox dispute %s opened on %s", dispute.stripe_id, charge.stripe_id)
    return dispute


def dispute_get(*, dispute_id: str) -> StripeSandboxDispute:
    """The dispute with this id, or Stripe's 404."""
    found = StripeSandboxDispute.objects.select_related("charge").filter(stripe_id=dispute_id)
    if not found:
        raise resource_missing("dispute", dispute_id, "dispute")
    return found[0]


def dispute_close(*, dispute_id: str, status: str, request: dict | None) -> StripeSandboxDispute:
    """Close an open dispute as the bank decided: `won`, `lost` or `warning_closed`."""
    if status not in CLOSING:
        raise param_invalid("status", f"Invalid status: must be one of {', '.join(CLOSING)}")
    with transaction.atomic():
        dispute = (
            StripeSandboxDispute.objects.select_for_update(of=("self",))
            .select_related("charge")
            .filter(stripe_id=dispute_id)
            .first()
        )
        if dispute is None:
            raise resource_missing("dispute", dispute_id, "dispute")
        if dispute.closed:
            raise state_error(f"This dispute is already closed ({dispute.status}).")
        dispute.status = status
        dispute.closed_at = timezone.now()
        dispute.save(update_fields=["status", "closed_at"])
        then = ("charge.dispute.funds_reinstated",) if status == Status.WON else ()
        _send(dispute, request, "charge.dispute.closed", *then)
    logger.info("stripe sandbox dispute %s closed %s", dispute.stripe_id, status)
    return dispute


def helper_close(*, dispute_id: str, params: Params, request: dict | None):
    """`POST /v1/test_helpers/disputes/{id}/close` with the outcome in `status`."""
    params.only("status")
    status = params.choice("status", CLOSING, required=True)
    return dispute_close(dispute_id=dispute_id, status=status, request=request)


def accept(*, dispute_id: str, params: Params, request: dict | None):
    """Stripe's own `POST /v1/disputes/{id}/close`: the merchant accepts, and the dispute is
    lost."""
    params.only()
    return dispute_close(dispute_id=dispute_id, status=Status.LOST, request=request)


def _send(dispute: StripeSandboxDispute, request: dict | None, *event_types: str) -> None:
    """Record and send events carrying the dispute as it now stands, in order, after commit."""
    body = shapes.dispute(dispute)
    events = [
        webhooks.event_record(event_type=kind, data_object=body, request=request)
        for kind in event_types
    ]
    webhooks.events_send(*events)
