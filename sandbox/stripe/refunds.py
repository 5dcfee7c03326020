"""The Stripe stand-in's refunds: by the API (`POST /v1/refunds`) or the checkout page's
sandbox-only button. Partial refunds add up on the charge and never pass its amount; each one
sends `charge.refunded` with the charge as it then stands."""

import logging

from django.db import transaction

from sandbox.stripe import shapes, webhooks
from sandbox.stripe.forms import (
    Params,
    StripeError,
    metadata_apply,
    param_invalid,
    resource_missing,
    state_error,
)
from sandbox.stripe.models import (
    StripeSandboxCharge,
    StripeSandboxRefund,
    StripeSandboxSession,
    stripe_id,
)

logger = logging.getLogger(__name__)

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _charges_locked():
    return StripeSandboxCharge.objects.select_for_update(of=("self",)).select_related("session")


def charge_get(*, charge_id: str) -> StripeSandboxCharge:
    """The charge with this id, or Stripe's 404."""
    found = StripeSandboxCharge.objects.select_related("session").filter(stripe_id=charge_id)
    if not found:
        raise resource_missing("charge", charge_id, "charge")
    return found[0]


def refund_get(*, refund_id: str) -> StripeSandboxRefund:
    """The refund with this id, or Stripe's 404."""
    found = StripeSandboxRefund.objects.select_related("charge").filter(stripe_id=refund_id)
    if not found:
        raise resource_missing("refund", refund_id, "refund")
    return found[0]


def _refund(
    *,
    charge: StripeSandboxCharge,
    amount: int | None,
    reason: str | None,
    metadata: dict,
    request: dict | None,
) -> StripeSandboxRefund:
    """Refund part or all of what is left on a locked charge, then send `charge.refunded`."""
    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise state_error(
            f"Charge {charge.stripe_id} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise state_error(
            f"Refund amount ({shapes.amount_display(amount, charge.currency)}) is greater than "
            f"unrefunded amount on charge ({shapes.amount_display(remaining, charge.currency)})",
            param="amount",
            code="amount_too_large",
        )
    refund = StripeSandboxRefund.objects.create(
        stripe_id=stripe_id("re_3"), charge=charge, amount=amount, reason=reason, metadata=metadata
    )
    charge.amount_refunded += amount
    charge.save(update_fields=["amount_refunded"])
    event = webhooks.event_record(
        event_type="charge.refunded", data_object=shapes.charge(charge), request=request
    )
    webhooks.events_send(event)
    logger.info("stripe sandbox refund %s of %s on %s", refund.stripe_id, amount, charge.stripe_id)
    return refund


def refund_create(*, params: Params, request: dict | None) -> StripeSandboxRefund:
    """`POST /v1/refunds` by `payment_intent` or `charge`, for `amount` cents or all that is
    left; partial refunds add up on the charge and never pass its amount."""
    params.only("payment_intent", "charge", "amount", "reason", "metadata")
    intent_id, charge_id = params.string("payment_intent"), params.string("charge")
    if not intent_id and not charge_id:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
            param="payment_intent",
        )
    amount = params.integer("amount", minimum=1)
    reason = params.choice("reason", REFUND_REASONS)
    metadata = metadata_apply({}, params.metadata())
    with transaction.atomic():
        if charge_id:
            charge = _charges_locked().filter(stripe_id=charge_id).first()
            if charge is None:
                raise resource_missing("charge", charge_id, "charge", http_status=400)
            if intent_id and charge.payment_intent_id != intent_id:
                raise param_invalid(
                    "payment_intent", f"Charge {charge_id} does not belong to {intent_id}."
                )
        else:
            charge = _charges_locked().filter(payment_intent_id=intent_id).first()
            if (
                charge is None
                and StripeSandboxSession.objects.filter(payment_intent_id=intent_id).exists()
            ):
                raise StripeError(
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    param="payment_intent",
                )
            if charge is None:
                raise resource_missing("payment_intent", intent_id, "payment_intent", 400)
        return _refund(
            charge=charge, amount=amount, reason=reason, metadata=metadata, request=request
        )


def checkout_refund(*, session_id: str, amount: int | None) -> StripeSandboxRefund:
    """The checkout page's "Refund (sandbox)": refund a paid session, as the Dashboard would."""
    with transaction.atomic():
        charge = _charges_locked().filter(session__stripe_id=session_id).first()
        if charge is None:
            raise state_error("This Checkout Session has no payment to refund.")
        return _refund(
            charge=charge,
            amount=amount,
            reason="requested_by_customer",
            metadata={},
            request=None,
        )
