"""Stripe (design section 13): a small client around the official `stripe` SDK, pointed at
STRIPE_API_BASE, its webhook event handlers, and the gateway interface over them. Card payments
in STRIPE_CURRENCY through Stripe Checkout; fulfilled by the signed `checkout.session.*` webhooks
and by verify."""

import contextlib
import logging
from collections.abc import Mapping

import requests
import stripe
from django.conf import settings

from ai_features.credits.money import from_minor_units, minor_units_parse, to_minor_units
from ai_features.models import AICreditPurchase, CreditPackage
from ai_features.payments.errors import (
    GatewayError,
    GatewayNotConfigured,
    GatewayTimeout,
    NotSoldThroughStripe,
)
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
from pos.jsonsafe import json_loads, json_loads_finite
from pos.logsafe import loggable

logger = logging.getLogger(__name__)
# The SDK logs each call at INFO, with Stripe's error message (it may quote the request or part
# of a key), and the form it posts (the buyer's email) at DEBUG. Our own lines say what is
# needed without them, so only its warnings pass, whatever LOG_LEVEL is.
logging.getLogger("stripe").setLevel(logging.WARNING)
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

    def __init__(self, *, http_client: stripe.HTTPClient | None = None):
        """`http_client`: the SDK's transport. By default the network (STRIPE_TIMEOUT_SECONDS, one
        retry); a given one (the sandbox reached in-process by setup_demo, before the server
        listens; tests) is used as it is, without retries."""
        if not settings.STRIPE_SECRET_KEY:
            raise StripeNotConfigured()
        network = http_client is None
        if network:
            http_client = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            api_key=settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=http_client,
            max_network_retries=1 if network else 0,
        )

    def _call(self, method, *args, **kwargs) -> dict:
        try:
            # for_json: the SDK makes Decimals of some fields (a session's
            # currency_conversion.fx_rate), which a JSON column cannot store.
            return method(*args, **kwargs).to_dict(for_json=True)
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

    def checkout_session_expire(self, *, session_id: str) -> dict:
        return self._call(self._client.v1.checkout.sessions.expire, session_id)

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


# --- Webhook events ---------------------------------------------------------------------------


def _purchase(**lookup) -> AICreditPurchase | None:
    return purchase_find(**lookup, gateway=StripeGateway.name)


def _session_event(session: dict, actions: WebhookActions, *, failed_reason: str = "") -> Answer:
    # By client_reference_id alone: it is the reference the verdict is checked against, so a
    # session naming no purchase of ours must not settle one found another way.
    purchase = _purchase(payment_reference=str(session.get("client_reference_id") or ""))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this client_reference_id."
    if problem := amount_problem(session.get("amount_total")):
        return Result.REJECTED, problem
    if failed_reason and session.get("id") != purchase.checkout_session_id:
        # Only the purchase's own checkout can fail it. One replaced before anyone was sent to
        # it (a stale Price, see checkout_start) expires unpaid while the payer uses the new one.
        return Result.RECORDED, "Not the purchase's current checkout: nothing changed."
    verdict = session_verdict(session, failed_reason=failed_reason)
    return actions.purchase_fulfil(purchase=purchase, verdict=verdict)


def _checkout_completed(session: dict, actions: WebhookActions) -> Answer:
    # `unpaid` here is a delayed method still on its way: the purchase waits for
    # async_payment_succeeded (or _failed).
    return _session_event(session, actions)


def _async_failed(session: dict, actions: WebhookActions) -> Answer:
    return _session_event(session, actions, failed_reason="The delayed payment failed.")


def _session_expired(session: dict, actions: WebhookActions) -> Answer:
    return _session_event(session, actions, failed_reason="The checkout expired unpaid.")


def _charge_refunded(charge: dict, actions: WebhookActions) -> Answer:
    if problem := amount_problem(charge.get("amount_refunded")):
        return Result.REJECTED, problem
    metadata = charge.get("metadata") if isinstance(charge.get("metadata"), dict) else {}
    purchase = _purchase(payment_reference=str(metadata.get("reference") or "")) or _purchase(
        payment_intent_id=str(charge.get("payment_intent") or "")
    )
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No purchase has this charge's reference or intent."
    currency = str(charge.get("currency") or "").upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Refund in {loggable(currency)}, purchase in {purchase.currency}."
    total = minor_units_parse(charge["amount_refunded"])
    # Stripe reports the charge's refunded total so far; the total names this state of it.
    key = f"stripe:{loggable(charge.get('id'), limit=80)}:{total}"
    return actions.refunded_total_apply(
        purchase=purchase, total_minor=total, currency=currency, refund_key=key
    )


DISPUTE_WON = {"won": True, "warning_closed": True, "lost": False}


def _dispute(dispute: dict, actions: WebhookActions, *, closing: bool) -> Answer:
    """`charge.dispute.created`, and `.closed` (`won`, `warning_closed` or `lost`)."""
    purchase = _purchase(payment_intent_id=str(dispute.get("payment_intent") or ""))
    if purchase is None:
        return Result.UNKNOWN_REFERENCE, "No Stripe purchase has this dispute's payment intent."
    if problem := amount_problem(dispute.get("amount")):
        return Result.REJECTED, problem
    currency = str(dispute.get("currency") or "").upper()
    if currency != purchase.currency:
        return Result.REJECTED, f"Dispute in {loggable(currency)}, purchase in {purchase.currency}."
    status = str(dispute.get("status") or "")
    if closing and status not in DISPUTE_WON:
        return Result.REJECTED, f"Rejected: a closed dispute with status {loggable(status)}."
    report = DisputeReport(
        dispute_id=f"stripe:{loggable(dispute.get('id'), limit=80)}",
        amount=from_minor_units(dispute["amount"]),
        currency=currency,
        won=DISPUTE_WON[status] if closing else None,
    )
    return actions.dispute_apply(purchase=purchase, report=report)


def _dispute_created(dispute: dict, actions: WebhookActions) -> Answer:
    return _dispute(dispute, actions, closing=False)


def _dispute_closed(dispute: dict, actions: WebhookActions) -> Answer:
    return _dispute(dispute, actions, closing=True)


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}


def _default_cancel_url(*, reference: str) -> str:
    """Where Stripe sends a payer who cancels, unless the request named a page."""
    return (
        f"{settings.FRONTEND_URL}/payment/callback?gateway=stripe&cancelled=1&reference={reference}"
    )


class StripeGateway:
    """Stripe behind the gateway interface."""

    name = "stripe"
    checkout_id_field = "checkout_session_id"
    # The success URL carries Stripe's `{CHECKOUT_SESSION_ID}`: verify finds the purchase by it.
    returns_with_checkout_id = True
    handlers = HANDLERS

    def is_configured(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY)

    def package_price(self, *, package: CreditPackage) -> Price:
        """The package's Stripe price in STRIPE_CURRENCY, no tax lines; a package without one
        is not sold through Stripe."""
        if package.stripe_price is None:
            raise NotSoldThroughStripe()
        return Price(amount=package.stripe_price, currency=settings.STRIPE_CURRENCY, taxed=False)

    def package_listed_price(self, *, package: CreditPackage) -> Price | None:
        """Listed only while this server can take Stripe payments."""
        if package.stripe_price is None or not settings.STRIPE_SECRET_KEY:
            return None
        return Price(amount=package.stripe_price, currency=settings.STRIPE_CURRENCY, taxed=False)

    def custom_amount_check(self) -> None:
        raise NotSoldThroughStripe("Stripe sells packages only, not a custom amount.")

    def purchase_options_refused(self, *, options: Mapping) -> dict[str, list[str]]:
        """Stripe Checkout has no channels to narrow."""
        if options.get("channels"):
            return {"channels": ["Only Paystack takes channels."]}
        return {}

    def payment_method_for(self, *, requested: str) -> str:
        """Stripe Checkout takes cards only."""
        return AICreditPurchase.PaymentMethod.CARD

    def return_urls(
        self, *, callback_url: str | None, success_url: str | None, cancel_url: str | None
    ) -> tuple[str, str]:
        """Stripe's success URL, and the cancel URL if one was given ("" for the default, which
        names the purchase reference once there is one: see checkout_start).
        `{CHECKOUT_SESSION_ID}` is Stripe's own placeholder and reaches it as it is."""
        callback = f"{settings.FRONTEND_URL}/payment/callback?gateway=stripe"
        success = success_url or callback + "&session_id={CHECKOUT_SESSION_ID}"
        # The default is checked too: FRONTEND_URL's host may be missing from the allow-list.
        return_url_checked(cancel_url or _default_cancel_url(reference=""))
        return return_url_checked(success), cancel_url or ""

    def checkout_start(
        self,
        *,
        purchase: AICreditPurchase,
        email: str,
        return_url: str,
        cancel_url: str,
        channels: list[str] | None,
    ) -> Checkout:
        price_id = (
            CreditPackage.objects.filter(code=purchase.package)
            .values_list("stripe_price_id", flat=True)
            .first()
        )
        ids = {
            "purchase_id": str(purchase.pk),
            "business_id": str(purchase.business_id),
            "reference": purchase.payment_reference,
        }
        params = {
            "mode": "payment",
            "client_reference_id": purchase.payment_reference,
            "customer_email": email or None,
            "success_url": return_url,
            # Only the default cancel URL is ours to fill in: a given one goes as it is.
            "cancel_url": cancel_url or _default_cancel_url(reference=purchase.payment_reference),
            "metadata": ids,
            # Refunds name the charge and its payment intent, not the session.
            "payment_intent_data": {"metadata": ids},
        }
        service = StripeService()
        # Stripe keeps the first answer per key for 24 hours: a retried request for the same
        # purchase can never open a second checkout.
        key = f"checkout-session:{purchase.payment_reference}"
        if price_id:
            line = {"price": price_id, "quantity": 1}
            session = service.checkout_session_create(
                params={**params, "line_items": [line]}, idempotency_key=key
            )
            if _charges_the_purchase(session, purchase):
                return _checkout(session)
            # The Price charges another amount than the one we credit (the package's Stripe
            # price was changed in the admin without syncing the catalogue): a payment would
            # be rejected as a mismatch after the money was taken. Close that checkout and
            # charge the package's own price instead.
            logger.error(
                "stripe price does not charge the package price package=%s price_id=%s "
                "charges=%s %s expected=%s %s: run setup_stripe_credit_products",
                purchase.package,
                loggable(price_id, limit=100),
                loggable(session.get("amount_total"), limit=20),
                loggable(session.get("currency"), limit=10),
                to_minor_units(purchase.total_amount),
                purchase.currency.lower(),
            )
            _expire_quietly(service, session_id=str(session.get("id") or ""))
            key += ":price-data"
        line = {
            "quantity": 1,
            "price_data": {
                "currency": purchase.currency.lower(),
                "unit_amount": to_minor_units(purchase.total_amount),
                "product_data": {"name": f"AI credits: {purchase.package}"},
            },
        }
        session = service.checkout_session_create(
            params={**params, "line_items": [line]}, idempotency_key=key
        )
        return _checkout(session)

    def verdict_fetch(self, *, purchase: AICreditPurchase) -> Verdict:
        unknown = Verdict.unknown(
            purchase=purchase, reason="Stripe has no checkout for this purchase."
        )
        if not purchase.checkout_session_id:  # the checkout never reached Stripe
            return unknown
        try:
            session = StripeService().checkout_session_retrieve(
                session_id=purchase.checkout_session_id
            )
        except StripeNotFound:
            # Not an outage (made with the other mode's key, say): like Paystack's 404, the
            # purchase waits, and reconciliation fails it once it is a day old.
            return unknown
        return session_verdict(session)

    def webhook_read(self, *, raw_body: bytes, headers) -> WebhookDelivery:
        if not signature_valid(raw_body=raw_body, header=headers.get("Stripe-Signature")):
            return WebhookDelivery(signed=False, **_named(raw_body))
        try:
            # Read here rather than by the SDK's construct_event: NaN and the like stay text
            # (a JSON column refuses them), and the event is plain dicts, not StripeObjects.
            payload = json_loads_finite(raw_body)
        except ValueError:  # signed, but not JSON
            return WebhookDelivery(signed=True)
        if not isinstance(payload, dict):
            return WebhookDelivery(signed=True)
        data = (payload.get("data") if isinstance(payload.get("data"), dict) else {}).get("object")
        if not isinstance(data, dict):
            return WebhookDelivery(signed=True, event=str(payload.get("type") or ""))
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        reference = data.get("client_reference_id") or metadata.get("reference") or ""
        return WebhookDelivery(
            signed=True,
            event=str(payload.get("type") or ""),
            event_id=str(payload.get("id") or ""),
            reference=str(reference),
            data=data,
        )


def signature_valid(*, raw_body: bytes, header: str | None) -> bool:
    """Whether Stripe signed these exact bytes with STRIPE_WEBHOOK_SECRET in the last 300 s
    (any `v1` of the header may match: a rolled secret stays valid a while)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not header:
        return False
    # The SDK decodes the body as UTF-8 and compares with hmac.compare_digest, which raises on
    # a non-ASCII str: bytes Stripe cannot have signed are refused here, not by an exception.
    if not header.isascii():
        return False
    try:
        body = raw_body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            body, header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except (UnicodeDecodeError, stripe.SignatureVerificationError):
        return False
    return True


def _checkout(session: dict) -> Checkout:
    return Checkout(url=str(session.get("url") or ""), checkout_id=str(session.get("id") or ""))


def _charges_the_purchase(session: dict, purchase: AICreditPurchase) -> bool:
    """Whether a new Checkout Session asks for exactly what fulfilment will expect."""
    return (
        session.get("amount_total") == to_minor_units(purchase.total_amount)
        and str(session.get("currency") or "").upper() == purchase.currency
    )


def _expire_quietly(service: "StripeService", *, session_id: str) -> None:
    """Close a checkout nobody was sent to; if that fails it expires unpaid by itself."""
    if not session_id:
        return
    with contextlib.suppress(StripeError):  # logged by _typed
        service.checkout_session_expire(session_id=session_id)


def _named(raw_body: bytes) -> dict:
    """The event's type and id, for the audit record of an unsigned delivery (never acted on)."""
    try:
        payload = json_loads(raw_body)  # too deep is a ValueError too
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {"event": str(payload.get("type") or ""), "event_id": str(payload.get("id") or "")}
