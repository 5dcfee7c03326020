"""The sandbox's behaviour: Paystack's answers for initialize, verify, refund and the bank list,
the one-time checkout, and signed webhooks sent back to this service."""

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from sandbox.paystack.models import SandboxRefund, SandboxTransaction

logger = logging.getLogger(__name__)

# How webhooks leave: "thread" sends from a daemon thread after DISPATCH_DELAY_SECONDS (so the
# browser's redirect usually lands first, as with Paystack); tests set "inline" to send at once.
DISPATCH = "thread"
DISPATCH_DELAY_SECONDS = 0.3
WEBHOOK_TIMEOUT_SECONDS = 10
DOMAIN = "test"
INTEGRATION_ID = 100001

REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9.=-]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Za-z]{3}$")
GATEWAY_RESPONSES = {
    SandboxTransaction.Status.SUCCESS: "Approved",
    SandboxTransaction.Status.FAILED: "Declined",
    SandboxTransaction.Status.ABANDONED: "The transaction was not completed",
}
CHECKOUT_ACTIONS = {
    "pay": SandboxTransaction.Status.SUCCESS,
    "decline": SandboxTransaction.Status.FAILED,
    "cancel": SandboxTransaction.Status.ABANDONED,
}
CHANNEL_LABELS = {"mobile_money": "Mobile money", "card": "Card"}
BANKS = [
    ("MTN Mobile Money", "MTN", "mtn-mobile-money", 28),
    ("Vodafone Cash", "VOD", "vodafone-cash", 66),
    ("AirtelTigo Money", "ATL", "airteltigo-money", 29),
]


@dataclass
class SandboxError(Exception):
    """A Paystack-shaped error answer: `{"status": false, "message", "type"?, "code"?, "meta"?}`."""

    message: str
    http_status: int = 400
    type: str | None = None
    code: str | None = None
    meta: dict = field(default_factory=dict)

    def body(self) -> dict:
        body: dict = {"status": False, "message": self.message}
        if self.type:
            body["type"] = self.type
        if self.code:
            body["code"] = self.code
        if self.meta:
            body["meta"] = self.meta
        return body


def invalid(message: str) -> SandboxError:
    return SandboxError(message, type="validation_error", code="invalid_params")


NOT_FOUND_MESSAGE = "Transaction reference not found"


# --- Keys --------------------------------------------------------------------------------------


def secret_key() -> str:
    return (getattr(settings, "PAYSTACK_SECRET_KEY", "") or "").strip()


def bearer_is_valid(authorization: str | None) -> bool:
    """True when the Authorization header is `Bearer <PAYSTACK_SECRET_KEY>`."""
    key = secret_key()
    scheme, _, given = (authorization or "").strip().partition(" ")
    if not key or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(key.encode(), given.strip().encode("utf-8", errors="replace"))


# --- Shapes ------------------------------------------------------------------------------------


def paystack_time(moment: datetime | None) -> str | None:
    """Paystack's timestamps: UTC with milliseconds, `2026-05-05T19:40:52.000Z`."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def amount_display(amount: int, currency: str) -> str:
    """`9400, "GHS"` -> `"GHS 94.00"`."""
    return f"{currency} {Decimal(amount) / 100:.2f}"


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel.replace("_", " ").capitalize())


def channels_to_pick(txn: SandboxTransaction) -> list[str]:
    """The channels the payer picks from on the checkout page: none when initialize named them
    (the page shows the first), else every channel the sandbox can pay with, as Paystack's page
    offers every channel when initialize sends no `channels`."""
    return [] if txn.channels else list(CHANNEL_LABELS)


def customer_data(txn: SandboxTransaction) -> dict:
    digest = hashlib.sha256(txn.email.lower().encode()).hexdigest()[:15]
    return {
        "first_name": None,
        "last_name": None,
        "email": txn.email,
        "customer_code": f"CUS_{digest}",
        "phone": None,
        "metadata": None,
        "risk_action": "default",
        "international_format_phone": None,
    }


def _authorization(txn: SandboxTransaction) -> dict:
    """What Paystack returns about the instrument that paid; `{}` until something has paid."""
    if txn.status != SandboxTransaction.Status.SUCCESS:
        return {}
    common = {
        "authorization_code": txn.authorization_code,
        "exp_month": "12",
        "channel": txn.channel,
        "country_code": "GH",
        "signature": None,
        "account_name": None,
    }
    if txn.channel == "mobile_money":
        return {
            **common,
            "bin": "055XXX",
            "last4": "X987",
            "exp_year": "9999",
            "card_type": "",
            "bank": "MTN",
            "brand": "Mtn",
            "reusable": False,
            "mobile_money_number": "0551234987",
        }
    return {  # Paystack's test card 4084 0840 8408 4081
        **common,
        "bin": "408408",
        "last4": "4081",
        "exp_year": "2030",
        "card_type": "visa ",
        "bank": "TEST BANK",
        "brand": "visa",
        "reusable": True,
        "signature": f"SIG_{txn.authorization_code.removeprefix('AUTH_')}",
    }


def transaction_data(txn: SandboxTransaction) -> dict:
    """The `data` of a verify answer, also the `data` of a `charge.success` webhook."""
    paid_at = paystack_time(txn.paid_at)
    created_at = paystack_time(txn.created_at)
    return {
        "id": txn.pk,
        "domain": DOMAIN,
        "status": txn.status,
        "reference": txn.reference,
        "receipt_number": None,
        "amount": txn.amount,
        "message": None,
        "gateway_response": GATEWAY_RESPONSES[txn.status],
        "paid_at": paid_at,
        "created_at": created_at,
        "channel": txn.channel,
        "currency": txn.currency,
        "ip_address": None,
        "metadata": txn.metadata if txn.metadata is not None else "",
        "log": None,
        "fees": None,
        "fees_split": None,
        "authorization": _authorization(txn),
        "customer": customer_data(txn),
        "plan": None,
        "split": {},
        "order_id": None,
        "paidAt": paid_at,
        "createdAt": created_at,
        "requested_amount": txn.amount,
        "pos_transaction_data": None,
        "source": None,
        "fees_breakdown": None,
        "transaction_date": created_at,
        "plan_object": {},
        "subaccount": {},
    }


def charge_success_data(txn: SandboxTransaction) -> dict:
    """The `data` of a `charge.success` webhook: the verify data plus the webhook's extras."""
    return {**transaction_data(txn), "subaccount_group": {}}


# --- Initialize and verify -----------------------------------------------------------------------


def _initialize_params(body) -> dict:
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    email = body.get("email")
    if not isinstance(email, str) or not email.strip():
        raise invalid("Email is required")
    email = email.strip()
    if "@" not in email or len(email) > 254:
        raise invalid("Invalid Email Address Passed")
    amount = body.get("amount")
    if amount is None:
        raise invalid("Amount is required")
    if type(amount) is not int:  # a bool, float or string is not an amount in minor units
        raise invalid("Invalid Amount Sent")
    if amount <= 0:
        raise invalid("Invalid Amount Sent")
    currency = body.get("currency")
    if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency):
        raise invalid("Currency is required and must be a 3-letter code")
    reference = body.get("reference")
    if not isinstance(reference, str) or not reference:
        raise invalid("Reference is required")
    if len(reference) > 100 or not REFERENCE_PATTERN.match(reference):
        raise invalid("Invalid reference: only letters, digits, '-', '.' and '=' are allowed")
    callback_url = body.get("callback_url") or ""
    if not isinstance(callback_url, str):
        raise invalid("Invalid callback_url")
    if callback_url:
        parts = urlsplit(callback_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or len(callback_url) > 2000:
            raise invalid("Invalid callback_url: it must be an http(s) URL")
    channels = body.get("channels")
    if channels is None:
        channels = []
    if not isinstance(channels, list) or not all(
        isinstance(item, str) and item for item in channels
    ):
        raise invalid("Channels must be a list of channel names")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise invalid("Metadata must be an object")
    return {
        "email": email,
        "amount": amount,
        "currency": currency.upper(),
        "reference": reference,
        "callback_url": callback_url,
        "channels": channels,
        "metadata": metadata,
    }


def _duplicate_reference() -> SandboxError:
    return SandboxError(
        "Duplicate Transaction Reference",
        type="validation_error",
        code="duplicate_reference",
        meta={"nextStep": "Try and create the Transaction or Charge with a new reference"},
    )


def transaction_initialize(body) -> SandboxTransaction:
    """Open a checkout for a JSON body like Paystack's; raises SandboxError when it is invalid."""
    params = _initialize_params(body)
    if SandboxTransaction.objects.filter(reference=params["reference"]).exists():
        raise _duplicate_reference()
    try:
        with transaction.atomic():
            txn = SandboxTransaction.objects.create(**params)
    except IntegrityError as exc:  # a concurrent initialize with the same reference won
        raise _duplicate_reference() from exc
    logger.info(
        "sandbox initialize reference=%s amount=%s %s", txn.reference, txn.amount, txn.currency
    )
    return txn


def transaction_get(reference: str) -> SandboxTransaction:
    txn = SandboxTransaction.objects.filter(reference=reference).first()
    if txn is None:
        raise SandboxError(NOT_FOUND_MESSAGE)
    return txn


# --- Checkout ----------------------------------------------------------------------------------


def checkout_complete(
    access_code: str, action: str, channel: str | None = None
) -> SandboxTransaction | None:
    """Settle a checkout once: pay, decline or cancel. None when the link was already used.
    `channel` is the one the payer picked when initialize left the choice open.

    The conditional UPDATE is the guard: of two submits, only one finds checkout_used false.
    """
    status = CHECKOUT_ACTIONS[action]
    now = timezone.now()
    changes = {
        "checkout_used": True,
        "status": status,
        "gateway_response": GATEWAY_RESPONSES[status],
    }
    if channel:
        changes["channels"] = [channel]
    if status == SandboxTransaction.Status.SUCCESS:
        changes.update(paid_at=now, authorization_code=f"AUTH_{secrets.token_hex(5)}")
    with transaction.atomic():
        claimed = SandboxTransaction.objects.filter(
            access_code=access_code, checkout_used=False
        ).update(**changes)
        if not claimed:
            return None
        txn = SandboxTransaction.objects.get(access_code=access_code)
        if status == SandboxTransaction.Status.SUCCESS:
            webhook_dispatch("charge.success", charge_success_data(txn))
    logger.info("sandbox checkout reference=%s action=%s", txn.reference, action)
    return txn


def callback_redirect_url(txn: SandboxTransaction) -> str:
    """`callback_url?trxref=REF&reference=REF`, keeping any query the callback already has."""
    parts = urlsplit(txn.callback_url)
    extra = urlencode({"trxref": txn.reference, "reference": txn.reference})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# --- Refunds -----------------------------------------------------------------------------------


def transaction_param(body: dict) -> str:
    """`transaction`: the reference, or the id, as Paystack's refund and dispute calls take it."""
    given = body.get("transaction")
    if type(given) is int:
        given = str(given)
    if not isinstance(given, str) or not given.strip():
        raise invalid("Transaction reference is required")
    return given.strip()


def transaction_locked(given: str) -> SandboxTransaction:
    """The transaction named by reference (or by id), row-locked; Paystack's error if none."""
    locked = SandboxTransaction.objects.select_for_update()
    txn = locked.filter(reference=given).first()
    if txn is None and given.isdigit() and len(given) < 19:
        txn = locked.filter(pk=int(given)).first()
    if txn is None:
        raise SandboxError(NOT_FOUND_MESSAGE)
    return txn


def minor_units_param(body: dict, name: str) -> int | None:
    """An optional amount in minor units: a positive int, as Paystack takes it; None if left out."""
    amount = body.get(name)
    if amount is not None and (type(amount) is not int or amount <= 0):
        raise invalid("Invalid Amount Sent")
    return amount


def refunded_total(txn: SandboxTransaction) -> int:
    return txn.refunds.aggregate(total=Sum("amount"))["total"] or 0


def refund_create(body) -> SandboxRefund:
    """`POST /refund`: refund a paid transaction, in full or `amount` minor units of what is
    left. Processed at once: `refund.processed` is sent after commit, as Paystack sends it once
    the refund goes through."""
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    given, amount = transaction_param(body), minor_units_param(body, "amount")
    with transaction.atomic():
        # The row lock serialises refunds of one transaction, so they cannot over-refund.
        txn = transaction_locked(given)
        if txn.status != SandboxTransaction.Status.SUCCESS:
            raise SandboxError("Transaction has not been paid")
        remaining = txn.amount - refunded_total(txn)
        if remaining <= 0:
            raise SandboxError("Transaction has been fully reversed")
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise invalid(
                f"Refund amount cannot be more than the unrefunded balance of {remaining}"
            )
        refund = SandboxRefund.objects.create(
            transaction=txn, amount=amount, refund_reference=str(secrets.randbelow(10**12))
        )
        webhook_dispatch("refund.processed", refund_webhook_data(refund))
    logger.info("sandbox refund reference=%s amount=%s", txn.reference, amount)
    return refund


def refund_data(refund: SandboxRefund) -> dict:
    """The `data` of the refund answer (`refund_create_response`): queued, as Paystack says."""
    txn = refund.transaction
    paid_at = paystack_time(txn.paid_at)
    created_at = paystack_time(refund.created_at)
    return {
        "transaction": {
            "id": txn.pk,
            "domain": DOMAIN,
            "reference": txn.reference,
            "amount": txn.amount,
            "paid_at": paid_at,
            "channel": txn.channel,
            "currency": txn.currency,
            "authorization": _authorization(txn),
            "customer": {"international_format_phone": None},
            "plan": {},
            "subaccount": {"currency": None},
            "split": {},
            "order_id": None,
            "paidAt": paid_at,
            "pos_transaction_data": None,
            "source": None,
            "fees_breakdown": None,
        },
        "integration": INTEGRATION_ID,
        "deducted_amount": 0,
        "channel": None,
        "merchant_note": f"Refund for transaction {txn.reference} by sandbox",
        "customer_note": f"Refund for transaction {txn.reference}",
        "status": "pending",
        "refunded_by": "sandbox@paystack.test",
        "expected_at": paystack_time(refund.created_at + timedelta(days=9)),
        "currency": txn.currency,
        "domain": DOMAIN,
        "amount": refund.amount,
        "fully_deducted": False,
        "id": refund.pk,
        "createdAt": created_at,
        "updatedAt": created_at,
    }


def refund_webhook_data(refund: SandboxRefund) -> dict:
    """The `data` of `refund.processed`; the amount is a string, as Paystack sends it."""
    txn = refund.transaction
    return {
        "status": refund.status,
        "transaction_reference": txn.reference,
        "refund_reference": refund.refund_reference,
        "amount": str(refund.amount),
        "currency": txn.currency,
        "processor": "sandbox",
        "customer": {"first_name": None, "last_name": None, "email": txn.email},
        "integration": INTEGRATION_ID,
        "domain": DOMAIN,
    }


# --- Banks -------------------------------------------------------------------------------------


# --- Webhooks ----------------------------------------------------------------------------------


def webhook_sign(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def webhook_send(event: str, data: dict) -> bool:
    """POST `{"event", "data"}` to PAYSTACK_SANDBOX_WEBHOOK_URL, signed like Paystack.

    The body is serialised once and those exact bytes are signed and sent. Returns whether the
    receiver answered 200; failures are logged, never raised.
    """
    url = (getattr(settings, "PAYSTACK_SANDBOX_WEBHOOK_URL", "") or "").strip()
    if not url:
        logger.info("sandbox webhook %s not sent: PAYSTACK_SANDBOX_WEBHOOK_URL is empty", event)
        return False
    body = json.dumps({"event": event, "data": data}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "x-paystack-signature": webhook_sign(body, secret_key()),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        logger.warning("sandbox webhook %s to %s failed: %s", event, url, type(exc).__name__)
        return False
    if response.status_code != 200:
        logger.warning("sandbox webhook %s to %s answered %s", event, url, response.status_code)
        return False
    logger.info("sandbox webhook %s delivered", event)
    return True


def _send_safely(event: str, data: dict, delay: float = 0) -> None:
    try:
        if delay:
            time.sleep(delay)
        webhook_send(event, data)
    except Exception:  # a webhook must never break the request or kill the process
        logger.exception("sandbox webhook %s failed", event)


def webhook_dispatch(event: str, data: dict) -> None:
    """Send a webhook once the current transaction commits: inline, or from a daemon thread."""

    def start():
        if DISPATCH == "inline":
            _send_safely(event, data)
            return
        threading.Thread(
            target=_send_safely,
            args=(event, data, DISPATCH_DELAY_SECONDS),
            name=f"paystack-sandbox-{event}",
            daemon=True,
        ).start()

    transaction.on_commit(start, robust=True)
