"""Stripe (design section 13): a small client around the official `stripe` SDK, pointed at
STRIPE_API_BASE, and the gateway interface over it. Card payments in STRIPE_CURRENCY through
Stripe Checkout; fulfilled by the signed `checkout.session.*` webhooks and by verify."""

import json
import logging

import requests
import stripe
from django.conf import settings

from ai_features.models import AICreditPurchase, CreditPackage
from ai_features.payments.errors import GatewayError, GatewayNotConfigured, GatewayTimeout
from ai_features.payments.gateways import Checkout, Verdict, VerdictStatus, WebhookDelivery
from ai_features.services.money import minor_units_parse, to_minor_units
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
SIGNATURE_TOLERANCE_SECONDS = 300


class StripeError(GatewayError):
    """Base of every Stripe failure; the SDK's message never reaches the client."""


class StripeNotConfigured(GatewayNotConfigured, StripeError):
    default_detail = "Card payments through Stripe are not configured on this server."


class StripeTimeout(GatewayTimeout, StripeError):
    pass


class StripeUnreachable(StripeError):
    code = "payment_gateway_unreachable"
    default_detail = "The payment gateway could not be reached. Please try again."


class StripeRejected(StripeError):
    code = "payment_gateway_rejected"
    default_detail = "The payment gateway rejected the request."


class StripeNotFound(StripeRejected):
    code = "payment_not_found_at_gateway"
    default_detail = "The payment gateway has no such checkout."


def _typed(exc: stripe.StripeError) -> StripeError:
    """Our error for one of the SDK's, logged without its message (it may quote the request)."""
    logger.warning(
        "stripe call failed error=%s status=%s code=%s request_id=%s",
        type(exc).__name__,
        getattr(exc, "http_status", None),
        loggable(getattr(exc, "code", None) or "-", limit=60),
        loggable(getattr(exc, "request_id", None) or "-", limit=100),
    )
    if isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, requests.Timeout):
            return StripeTimeout()
        return StripeUnreachable()
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeRejected("The payment gateway refused this server's credentials.")
    if isinstance(exc, stripe.InvalidRequestError) and getattr(exc, "http_status", 0) == 404:
        return StripeNotFound()
    if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError):
        return StripeRejected()
    if isinstance(exc, stripe.RateLimitError):
        return StripeError("The payment gateway is busy. Please try again in a minute.")
    return StripeError()


class StripeService:
    """One method per Stripe call; each returns the SDK's object as a dict or raises StripeError."""

    def __init__(self):
        if not settings.STRIPE_SECRET_KEY:
            raise StripeNotConfigured()
        self._client = stripe.StripeClient(
            api_key=settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
            max_network_retries=1,
        )

    def _call(self, method, *args, **kwargs) -> dict:
        try:
            return method(*args, **kwargs).to_dict()
        except stripe.StripeError as exc:
            raise _typed(exc) from exc

    def checkout_session_create(self, *, params: dict, idempotency_key: str) -> dict:
        return self._call(
            self._client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )

    def checkout_session_retrieve(self, *, session_id: str) -> dict:
        return self._call(self._client.v1.checkout.sessions.retrieve, session_id)

    def product_create(self, *, params: dict) -> dict:
        return self._call(self._client.v1.products.create, params=params)

    def product_update(self, *, product_id: str, params: dict) -> dict:
        return self._call(self._client.v1.products.update, product_id, params=params)

    def price_create(self, *, params: dict) -> dict:
        return self._call(self._client.v1.prices.create, params=params)

    def price_retrieve(self, *, price_id: str) -> dict:
        return self._call(self._client.v1.prices.retrieve, price_id)

    def price_update(self, *, price_id: str, params: dict) -> dict:
        return self._call(self._client.v1.prices.update, price_id, params=params)

    def product_retrieve(self, *, product_id: str) -> dict:
        return self._call(self._client.v1.products.retrieve, product_id)

    def price_list(self, *, params: dict) -> dict:
        """One page of prices (`lookup_keys`, `product`, `active` filters; `limit` up to 100)."""
        return self._call(self._client.v1.prices.list, params=params)

    @classmethod
    def over(cls, http_client: stripe.HTTPClient) -> "StripeService":
        """The service with its SDK calls sent through `http_client` instead of the network:
        the sandbox reached in-process (setup_demo runs before the server listens), or tests."""
        service = cls()
        service._client = stripe.StripeClient(
            api_key=settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=http_client,
            max_network_retries=0,
        )
        return service


def session_verdict(session: dict, *, failed_reason: str = "") -> Verdict:
    """A Checkout Session (retrieved, or inside a webhook) as a gateway verdict. Paid only when
    `payment_status` is `paid`: `no_payment_required` (a full discount) pays for nothing."""
    payment_status = str(session.get("payment_status") or "")
    state = str(session.get("status") or "")
    try:
        amount = minor_units_parse(session.get("amount_total"))
    except ValueError:
        amount = None
    if payment_status == "paid":
        verdict, reason = VerdictStatus.PAID, ""
    elif failed_reason or state == "expired":
        verdict, reason = VerdictStatus.FAILED, failed_reason or "The checkout expired unpaid."
    elif state == "complete":
        verdict, reason = VerdictStatus.PENDING, "The payment is on its way (a delayed method)."
    else:
        verdict, reason = VerdictStatus.NOT_COMPLETED, "Payment was not completed."
    intent = session.get("payment_intent")
    return Verdict(
        status=verdict,
        reference=str(session.get("client_reference_id") or ""),
        amount_minor=amount,
        currency=str(session.get("currency") or "").upper(),
        gateway_status=(f"{state}/{payment_status}" if state else payment_status)[:30],
        raw=session,
        reason=reason,
        payment_intent_id=intent if isinstance(intent, str) else "",
    )


class StripeGateway:
    """Stripe behind the gateway interface."""

    name = "stripe"

    def is_configured(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY)

    def checkout_start(
        self,
        *,
        purchase: AICreditPurchase,
        email: str,
        return_url: str,
        cancel_url: str,
        channels: list[str] | None,
    ) -> Checkout:
        package = purchase.package
        price_id = (
            CreditPackage.objects.filter(code=package)
            .values_list("stripe_price_id", flat=True)
            .first()
        )
        line = (
            {"price": price_id, "quantity": 1}
            if price_id
            else {
                "quantity": 1,
                "price_data": {
                    "currency": purchase.currency.lower(),
                    "unit_amount": to_minor_units(purchase.total_amount),
                    "product_data": {"name": f"AI credits: {package}"},
                },
            }
        )
        ids = {
            "purchase_id": str(purchase.pk),
            "business_id": str(purchase.business_id),
            "reference": purchase.payment_reference,
        }
        session = StripeService().checkout_session_create(
            params={
                "mode": "payment",
                "line_items": [line],
                "client_reference_id": purchase.payment_reference,
                "customer_email": email or None,
                "success_url": return_url,
                "cancel_url": cancel_url,
                "metadata": ids,
                # Refunds name the charge and its payment intent, not the session.
                "payment_intent_data": {"metadata": ids},
            },
            # Stripe keeps the first answer per key for 24 hours: a retried request for the
            # same purchase can never open a second checkout.
            idempotency_key=f"checkout-session:{purchase.payment_reference}",
        )
        return Checkout(url=str(session.get("url") or ""), checkout_id=str(session.get("id")))

    def verdict_fetch(self, *, purchase: AICreditPurchase) -> Verdict:
        if not purchase.checkout_session_id:  # the checkout never reached Stripe
            return Verdict(
                status=VerdictStatus.UNKNOWN,
                reference=purchase.payment_reference,
                amount_minor=None,
                currency="",
                gateway_status="not_found",
                reason="Stripe has no checkout for this purchase.",
            )
        session = StripeService().checkout_session_retrieve(session_id=purchase.checkout_session_id)
        return session_verdict(session)

    def webhook_read(self, *, raw_body: bytes, headers) -> WebhookDelivery:
        secret = settings.STRIPE_WEBHOOK_SECRET
        signature = headers.get("Stripe-Signature")
        try:
            if not secret or not signature:
                raise stripe.SignatureVerificationError("unsigned", signature)
            event = stripe.Webhook.construct_event(
                raw_body, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            return WebhookDelivery(signed=False, **_named(raw_body))
        except ValueError:  # signed, but not JSON
            return WebhookDelivery(signed=True)
        payload = event.to_dict()
        data = (payload.get("data") or {}).get("object")
        if not isinstance(data, dict):
            return WebhookDelivery(signed=True, event=str(payload.get("type") or ""))
        reference = data.get("client_reference_id") or (data.get("metadata") or {}).get(
            "reference", ""
        )
        return WebhookDelivery(
            signed=True,
            event=str(payload.get("type") or ""),
            event_id=str(payload.get("id") or ""),
            reference=str(reference or ""),
            data=data,
        )


def _named(raw_body: bytes) -> dict:
    """The event's type and id, for the audit record of an unsigned delivery (never acted on)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {"event": str(payload.get("type") or ""), "event_id": str(payload.get("id") or "")}
