"""Paystack: a small API client (typed gateway errors, transaction calls, webhook signatures),
its webhook event handlers, and the gateway interface over them."""

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from urllib.parse import quote

import requests
from django.conf import settings

from ai_features.credits.money import from_minor_units, minor_units_parse, to_minor_units
from ai_features.models import AICreditPurchase, CreditPackage
from ai_features.payments.errors import GatewayError, GatewayNotConfigured, GatewayTimeout
from ai_features.payments.gateways.base import (
    Answer,
    Checkout,
    DisputeReport,
    Price,
    Result,
    Verdict,
    VerdictStatus,
    WebhookActions,
    WebhookDelivery,
    amount_problem,
    purchase_find,
    return_url_checked,
)
from pos.jsonsafe import json_loads_finite
from pos.logsafe import loggable

logger = logging.getLogger(__name__)

# The names Paystack's initialize takes in `channels` (its API reference lists these).
CHANNELS = (
    "card",
    "bank",
    "bank_transfer",
    "mobile_money",
    "ussd",
    "qr",
    "eft",
    "apple_pay",
    "capitec_pay",
    "payattitude",
)


class PaystackError(GatewayError):
    """Base of every Paystack failure; keeps the HTTP status and Paystack's error code if any."""

    def __init__(self, detail=None, *, http_status=None, paystack_code=None):
        super().__init__(detail)
        self.http_status: int | None = http_status
        self.paystack_code: str | None = paystack_code


class PaystackNotConfigured(GatewayNotConfigured, PaystackError):
    pass


class PaystackTimeout(GatewayTimeout, PaystackError):
    pass


class PaystackConnectionError(PaystackError):
    code = "payment_gateway_unreachable"
    default_detail = "The payment gateway could not be reached. Please try again."


class PaystackRateLimited(PaystackError):
    code = "payment_gateway_busy"
    default_detail = "The payment gateway is busy. Please try again in a minute."


class PaystackAuthError(PaystackError):
    code = "payment_gateway_auth_failed"
    default_detail = (
        "The payment gateway refused this server's credentials. "
        "Payments are unavailable until the configuration is fixed."
    )


class PaystackServerError(PaystackError):
    default_detail = "The payment gateway had an internal error. Please try again."


class PaystackBadResponse(PaystackError):
    code = "payment_gateway_bad_response"
    default_detail = "The payment gateway sent a response this server could not understand."


class PaystackRequestError(PaystackError):
    code = "payment_gateway_rejected"
    default_detail = "The payment gateway rejected the request."


class PaystackNotFound(PaystackRequestError):
    """Paystack has no such transaction. Callers that expect this catch it; if it escapes, it is
    a gateway failure (502) for our client, never a 404 about the client's own resource."""

    code = "payment_not_found_at_gateway"
    default_detail = "The payment gateway has no transaction with this reference."


def _error_for(status: int, body) -> PaystackError | None:
    """The error a Paystack answer stands for, or None when it is a usable success envelope."""
    pcode = body.get("code") if isinstance(body, dict) else None
    pcode = pcode if isinstance(pcode, str) else None
    if status == 401:
        return PaystackAuthError(http_status=status, paystack_code=pcode)
    if status == 429:
        return PaystackRateLimited(http_status=status, paystack_code=pcode)
    if status >= 500:
        return PaystackServerError(http_status=status, paystack_code=pcode)
    if not isinstance(body, dict):
        return PaystackBadResponse(http_status=status)
    message = str(body.get("message") or "").strip()[:200]
    if status == 404 or (status == 400 and "not found" in message.lower()):
        return PaystackNotFound(http_status=status, paystack_code=pcode)
    if status >= 400 or body.get("status") in (False, "false"):
        detail = f"The payment gateway rejected the request: {message or 'no reason given'}."
        return PaystackRequestError(detail, http_status=status, paystack_code=pcode)
    if not 200 <= status < 300 or body.get("status") is not True:
        return PaystackBadResponse(http_status=status)
    return None


def _require_pesewas(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int number of pesewas, not {type(amount).__name__}")


class PaystackService:
    """One method per Paystack call; each returns the envelope's `data` or raises PaystackError."""

    def __init__(
        self,
        *,
        secret_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
    ):
        key = settings.PAYSTACK_SECRET_KEY if secret_key is None else secret_key
        self.secret_key = (key or "").strip()
        self.base_url = (base_url or settings.PAYSTACK_BASE_URL).rstrip("/")
        self.timeout = settings.PAYSTACK_TIMEOUT_SECONDS if timeout is None else timeout
        self.session = requests.Session()

    def initialize_transaction(
        self,
        *,
        email: str,
        amount: int,
        currency: str,
        reference: str,
        callback_url: str,
        metadata: dict,
        channels: list[str] | None = None,
    ) -> dict:
        """Open a checkout. Without `channels` Paystack offers every channel the business has
        (card, mobile money, bank transfer, ...) and the payer picks one."""
        _require_pesewas(amount)
        payload = {
            "email": email,
            "amount": amount,
            "currency": currency,
            "reference": reference,
            "callback_url": callback_url,
            "metadata": metadata,
        }
        if channels is not None:
            payload["channels"] = channels
        return self._request("POST", "/transaction/initialize", dict, json=payload)

    def verify_transaction(self, *, reference: str) -> dict:
        """The transaction as Paystack sees it; the caller must read data["status"] itself."""
        return self._request("GET", f"/transaction/verify/{quote(reference, safe='')}", dict)

    def is_valid_signature(self, raw_body: bytes, signature: str | None) -> bool:
        """Check `x-paystack-signature`: hex HMAC-SHA512 of the raw request bytes."""
        if not self.secret_key or not signature or not signature.strip():
            return False
        expected = hmac.new(self.secret_key.encode(), raw_body, hashlib.sha512).hexdigest()
        # Compared as bytes: compare_digest refuses non-ASCII str, and a header may hold anything.
        given = signature.strip().lower().encode("utf-8", errors="replace")
        return hmac.compare_digest(expected.encode(), given)

    def _request(self, method: str, path: str, data_type: type, **kwargs):
        started = time.monotonic()
        status = None
        try:
            if not self.secret_key:
                raise PaystackNotConfigured()
            headers = {
                "Authorization": f"Bearer {self.secret_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            try:
                response = self.session.request(
                    method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.Timeout as exc:
                raise PaystackTimeout() from exc
            except requests.RequestException as exc:
                raise PaystackConnectionError() from exc
            status = response.status_code
            try:
                body = json_loads_finite(response.content)
            except ValueError:
                body = None
            error = _error_for(status, body)
            if error is not None:
                raise error
            data = body.get("data")
            if not isinstance(data, data_type):
                raise PaystackBadResponse(http_status=status)
        except PaystackError as exc:
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.warning(
                "paystack %s %s failed: status=%s elapsed_ms=%.0f error=%s",
                method,
                path,
                status,
                elapsed_ms,
                type(exc).__name__,
            )
            raise
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("paystack %s %s status=%s elapsed_ms=%.0f", method, path, status, elapsed_ms)
        return data


# Paystack's words for a checkout that will never pay. "abandoned" is not among them: Paystack
# also calls a checkout the customer has not finished yet abandoned (see docs/payments.md).
FAILED_STATUSES = {"failed", "reversed"}


def paystack_verdict(data: dict) -> Verdict:
    """A Paystack transaction (from verify or a charge event) as a gateway verdict."""
    status = str(data.get("status", "")).lower()
    try:
        amount = minor_units_parse(data.get("amount"))
    except ValueError:
        amount = None
    if status == "success":
        verdict, reason = VerdictStatus.PAID, ""
    elif status in FAILED_STATUSES:
        why = data.get("gateway_response") or f"Payment {status}"
        verdict, reason = VerdictStatus.FAILED, f"Payment {status}: {str(why)[:200]}"
    elif status == "abandoned":
        verdict, reason = VerdictStatus.NOT_COMPLETED, "Payment was not completed."
    else:
        verdict, reason = VerdictStatus.PENDING, "Payment is still being processed."
    return Verdict(
        status=verdict,
        reference=str(data.get("reference", "")),
        amount_minor=amount,
        currency=str(data.get("currency", "")).upper(),
        gateway_status=status[:30],
        raw=data,
        reason=reason,
    )


def _event_parse(raw_body: bytes) -> tuple[str, dict] | None:
    try:
        payload = json_loads_finite(raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return None
    return str(payload.get("event", "")), payload["data"]


# --- Webhook events ---------------------------------------------------------------------------


def _purchase(reference: str) -> AICreditPurchase | None:
    return purchase_find(payment_reference=reference, gateway=PaystackGateway.name)


def _charge_success(data: dict, actions: WebhookActions) -> Answer:
    if problem := amount_problem(data.get("amount")):
        return Result.REJECTED, problem
    purchase = _purchase(str(data.get("reference", "")))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this reference."
    return actions.purchase_fulfil(purchase=purchase, verdict=paystack_verdict(data))


def _refund_processed(data: dict, actions: WebhookActions) -> Answer:
    if problem := amount_problem(data.get("amount")):
        return Result.REJECTED, problem
    purchase = _purchase(str(data.get("transaction_reference", "")))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase has this transaction reference."
    currency = str(data.get("currency") or "").upper()
    if not currency:
        return Result.REJECTED, "Rejected: the refund names no currency."
    if currency != purchase.currency:
        return Result.REJECTED, f"Refund in {loggable(currency)}, purchase in {purchase.currency}."
    return actions.refund_apply(purchase=purchase, data={**data, "currency": currency})


def _refund_update(data: dict, actions: WebhookActions) -> Answer:
    if _purchase(str(data.get("transaction_reference", ""))) is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase has this transaction reference."
    return Result.RECORDED, f"Refund status: {loggable(data.get('status'), limit=30)}."


def _dispute(data: dict, actions: WebhookActions) -> Answer:
    """`charge.dispute.create` and `.resolve`: `refund_amount` may be null (the whole payment);
    `resolution` is `declined` (the shop keeps the money) or `merchant-accepted`."""
    transaction = data.get("transaction") if isinstance(data.get("transaction"), dict) else {}
    purchase = _purchase(str(transaction.get("reference") or ""))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Paystack purchase is the disputed transaction."
    amount = data.get("refund_amount")
    if amount is not None and (problem := amount_problem(amount)):
        return Result.REJECTED, problem
    currency = str(data.get("currency") or purchase.currency).upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Dispute in {loggable(currency)}, purchase in {purchase.currency}."
    resolution = data.get("resolution")
    if data.get("status") == "resolved" and resolution not in {"declined", "merchant-accepted"}:
        return Result.REJECTED, f"Rejected: resolution {loggable(resolution, limit=30)}."
    report = DisputeReport(
        dispute_id=f"paystack:{loggable(data.get('id'), limit=80)}",
        amount=None if amount is None else from_minor_units(amount),
        currency=currency,
        won=None if data.get("status") != "resolved" else resolution == "declined",
    )
    return actions.dispute_apply(purchase=purchase, report=report)


HANDLERS = {
    "charge.success": _charge_success,
    "refund.processed": _refund_processed,
    "refund.pending": _refund_update,
    "refund.processing": _refund_update,
    "refund.failed": _refund_update,
    "refund.needs-attention": _refund_update,
    "charge.dispute.create": _dispute,
    "charge.dispute.resolve": _dispute,
}


class PaystackGateway:
    """Paystack behind the gateway interface (GHS: mobile money, card, bank transfer)."""

    name = "paystack"
    checkout_id_field = "access_code"
    returns_with_checkout_id = False  # the payer comes back with our reference
    handlers = HANDLERS

    def is_configured(self) -> bool:
        return bool(settings.PAYSTACK_SECRET_KEY)

    def package_price(self, *, package: CreditPackage) -> Price:
        """The package's price in AI_CREDIT_CURRENCY, the tax lines on top."""
        return Price(amount=package.price, currency=settings.AI_CREDIT_CURRENCY, taxed=True)

    def package_listed_price(self, *, package: CreditPackage) -> Price | None:
        """Always listed: the package's own price and currency."""
        return Price(amount=package.price, currency=package.currency, taxed=True)

    def custom_amount_check(self) -> None:
        """Paystack sells a custom amount too."""

    def purchase_options_refused(self, *, options: Mapping) -> dict[str, list[str]]:
        """Paystack returns the browser to `callback_url`; the Stripe-style URLs are refused."""
        if options.get("success_url") or options.get("cancel_url"):
            return {"success_url": ["Only a Stripe purchase takes success_url and cancel_url."]}
        return {}

    def payment_method_for(self, *, requested: str) -> str:
        """The buyer's preference as given: only `channels` narrows the checkout."""
        return requested

    def return_urls(
        self, *, callback_url: str | None, success_url: str | None, cancel_url: str | None
    ) -> tuple[str, str]:
        """The callback URL (by default the SPA's payment callback page); Paystack has no
        cancel URL."""
        if not callback_url:
            return f"{settings.FRONTEND_URL}/payment/callback", ""
        return return_url_checked(callback_url), ""

    def checkout_start(
        self,
        *,
        purchase: AICreditPurchase,
        email: str,
        return_url: str,
        cancel_url: str,
        channels: list[str] | None,
    ) -> Checkout:
        checkout = PaystackService().initialize_transaction(
            email=email,
            amount=to_minor_units(purchase.total_amount),
            currency=purchase.currency,
            reference=purchase.payment_reference,
            callback_url=return_url,
            channels=channels,
            metadata={
                "purchase_id": purchase.pk,
                "business_id": purchase.business_id,
                "credits": str(purchase.total_credits),
            },
        )
        return Checkout(
            url=checkout.get("authorization_url", ""), checkout_id=checkout.get("access_code", "")
        )

    def verdict_fetch(self, *, purchase: AICreditPurchase) -> Verdict:
        try:
            data = PaystackService().verify_transaction(reference=purchase.payment_reference)
        except PaystackNotFound:  # the checkout never reached Paystack
            return Verdict.unknown(
                purchase=purchase, reason="Paystack has no payment for this purchase."
            )
        return paystack_verdict(data)

    def webhook_read(self, *, raw_body: bytes, headers) -> WebhookDelivery:
        signed = PaystackService().is_valid_signature(raw_body, headers.get("x-paystack-signature"))
        parsed = _event_parse(raw_body)
        if parsed is None:
            return WebhookDelivery(signed=signed)
        event, data = parsed
        reference = data.get("reference") or data.get("transaction_reference") or ""
        return WebhookDelivery(signed=signed, event=event, reference=str(reference), data=data)
