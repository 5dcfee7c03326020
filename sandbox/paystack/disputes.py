"""Paystack disputes (chargebacks) in the sandbox, for the demo and the tests.

At Paystack a dispute is opened by the customer's bank, so opening one is a sandbox-only call
(`POST test_helpers/disputes`); resolving it is Paystack's own `PUT /dispute/:id/resolve`, which
here settles it at once. Each sends its signed webhook after commit: `charge.dispute.create`,
then `charge.dispute.resolve` with `resolution` `declined` (the shop keeps the money) or
`merchant-accepted` (the customer gets it back). The Dispute's fields follow
shared/paystack/README.md ("Disputes"); Paystack has published no recorded payload.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sandbox.paystack import services
from sandbox.paystack.models import SandboxDispute, SandboxTransaction
from sandbox.paystack.services import SandboxError, invalid

logger = logging.getLogger(__name__)

CATEGORIES = ("chargeback", "fraud")
RESOLUTIONS = tuple(SandboxDispute.Resolution.values)
RESPONSE_DAYS = 7  # how long the merchant has to answer (`due_at`)
NOT_FOUND = "Dispute not found"


def _choice(body: dict, name: str, choices: tuple, default: str | None = None) -> str | None:
    given = body.get(name, default)
    if given is None and default is None:
        raise invalid(f"{name.capitalize()} is required: one of {', '.join(choices)}")
    if given not in choices:
        raise invalid(f"Invalid {name}: one of {', '.join(choices)}")
    return given


def dispute_open(body) -> SandboxDispute:
    """Open a dispute on a paid transaction: `{transaction, refund_amount?, category?}`, the
    transaction by reference or id; `refund_amount` in minor units, at most what was paid, or
    left out (null: the whole payment). One open dispute per transaction at a time."""
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    given = services.transaction_param(body)
    amount = services.minor_units_param(body, "refund_amount")
    category = _choice(body, "category", CATEGORIES, default="chargeback")
    with transaction.atomic():
        txn = services.transaction_locked(given)  # serialises disputes of one transaction
        if txn.status != SandboxTransaction.Status.SUCCESS:
            raise SandboxError("Transaction has not been paid")
        if amount is not None and amount > txn.amount:
            raise invalid(
                f"Refund amount cannot be more than the transaction amount of {txn.amount}"
            )
        if txn.disputes.filter(status=SandboxDispute.Status.AWAITING_MERCHANT).exists():
            raise SandboxError("Transaction already has an open dispute")
        dispute = SandboxDispute.objects.create(
            transaction=txn, refund_amount=amount, currency=txn.currency, category=category
        )
        services.webhook_dispatch("charge.dispute.create", dispute_data(dispute))
    logger.info("sandbox dispute %s opened on reference=%s", dispute.pk, txn.reference)
    return dispute


def dispute_get(dispute_id: int) -> SandboxDispute:
    found = SandboxDispute.objects.select_related("transaction").filter(pk=dispute_id).first()
    if found is None:
        raise SandboxError(NOT_FOUND, http_status=404)
    return found


def dispute_resolve(dispute_id: int, body) -> SandboxDispute:
    """`PUT /dispute/:id/resolve`: `{resolution, message?}`; resolved at once."""
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    resolution = _choice(body, "resolution", RESOLUTIONS)
    message = body.get("message") or ""
    if not isinstance(message, str) or len(message) > 500:
        raise invalid("Message must be text of at most 500 characters")
    with transaction.atomic():
        dispute = (
            SandboxDispute.objects.select_for_update(of=("self",))
            .select_related("transaction")
            .filter(pk=dispute_id)
            .first()
        )
        if dispute is None:
            raise SandboxError(NOT_FOUND, http_status=404)
        if dispute.status == SandboxDispute.Status.RESOLVED:
            raise SandboxError("Dispute has already been resolved")
        dispute.status = SandboxDispute.Status.RESOLVED
        dispute.resolution = resolution
        dispute.message = message
        dispute.resolved_at = timezone.now()
        dispute.save(update_fields=["status", "resolution", "message", "resolved_at"])
        services.webhook_dispatch("charge.dispute.resolve", dispute_data(dispute))
    logger.info("sandbox dispute %s resolved %s", dispute.pk, resolution)
    return dispute


def dispute_data(dispute: SandboxDispute) -> dict:
    """A Dispute, as the `data` of the dispute webhooks and of the dispute calls' answers."""
    txn = dispute.transaction
    created_at = services.paystack_time(dispute.created_at)
    resolved_at = services.paystack_time(dispute.resolved_at)
    return {
        "id": dispute.pk,
        "refund_amount": dispute.refund_amount,
        "currency": dispute.currency,
        "status": dispute.status,
        "resolution": dispute.resolution,
        "domain": services.DOMAIN,
        "integration": services.INTEGRATION_ID,
        "transaction": services.transaction_data(txn),
        "transaction_reference": txn.reference,
        "category": dispute.category,
        "customer": services.customer_data(txn),
        "merchant_bears_loss": True,
        "note": dispute.message or None,
        "due_at": services.paystack_time(dispute.created_at + timedelta(days=RESPONSE_DAYS)),
        "resolved_at": resolved_at,
        "created_at": created_at,
        "updated_at": resolved_at or created_at,
    }
