"""Starting a purchase: a pending row first, then a Paystack checkout for it (design section 8)."""

import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Business
from ai_features.models import AICreditPurchase, PurchaseIdempotencyKey
from ai_features.payments.errors import CallbackUrlNotAllowed, GatewayNotConfigured
from ai_features.payments.packages import purchase_quote
from ai_features.payments.paystack import PaystackError, PaystackService
from ai_features.services.money import to_pesewas
from pos.errors import Conflict

logger = logging.getLogger(__name__)
# Far longer than a purchase request can take (Paystack's timeout is seconds).
IDEMPOTENCY_CLAIM_EXPIRES = timedelta(minutes=5)


def purchase_create(**fields) -> AICreditPurchase:
    """A purchase with a fresh `AI-CREDIT-…` reference."""
    return AICreditPurchase.objects.create_with_reference(**fields)


def callback_url_resolve(callback_url: str | None) -> str:
    """The URL Paystack sends the browser back to; only to hosts we trust (no open redirect)."""
    if not callback_url:
        return f"{settings.FRONTEND_URL}/payment/callback"
    parts = urlsplit(callback_url)
    allowed = {host.lower() for host in settings.PAYMENT_CALLBACK_ALLOWED_HOSTS}
    # Browsers and Python disagree on what host `http://evil.example\@allowed/` names, so any
    # credentials or backslash in the URL is refused rather than parsed.
    ambiguous = "@" in parts.netloc or "\\" in callback_url
    if (
        ambiguous
        or parts.scheme not in {"http", "https"}
        or (parts.hostname or "").lower() not in allowed
    ):
        raise CallbackUrlNotAllowed()
    return callback_url


def _fingerprint(**request) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _idempotency_claim(*, user, key: str, fingerprint: str) -> AICreditPurchase | None:
    """The purchase an earlier request with this key made, or None after claiming the key."""
    existing = PurchaseIdempotencyKey.objects.filter(user=user, key=key).first()
    if (
        existing is not None
        and existing.purchase_id is None
        and existing.created_at < timezone.now() - IDEMPOTENCY_CLAIM_EXPIRES
    ):
        # A request that claimed the key and never finished (a crash): let this one take over.
        PurchaseIdempotencyKey.objects.filter(pk=existing.pk, purchase__isnull=True).delete()
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                PurchaseIdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
            return None
        except IntegrityError:
            existing = PurchaseIdempotencyKey.objects.get(user=user, key=key)
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body.",
            code="idempotency_key_reused",
        )
    if existing.purchase_id is None or not existing.purchase.authorization_url:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            code="idempotency_request_in_progress",
        )
    return existing.purchase


def purchase_start(
    *,
    business: Business,
    user,
    package: str,
    custom_amount: Decimal | None = None,
    payment_method: str = AICreditPurchase.Method.MOBILE_MONEY,
    callback_url: str | None = None,
    channels: list[str] | None = None,
    idempotency_key: str | None = None,
) -> AICreditPurchase:
    """Create a pending purchase and open a Paystack checkout for it.

    `payment_method` is the buyer's recorded preference; only `channels` narrows the checkout."""
    if not settings.PAYSTACK_SECRET_KEY:
        raise GatewayNotConfigured()
    quote = purchase_quote(package=package, custom_amount=custom_amount)
    callback = callback_url_resolve(callback_url)
    if idempotency_key:
        fingerprint = _fingerprint(
            business=business.pk,
            package=package,
            custom_amount=custom_amount,
            payment_method=payment_method,
            callback_url=callback_url,
            channels=channels,
        )
        earlier = _idempotency_claim(user=user, key=idempotency_key, fingerprint=fingerprint)
        if earlier is not None:
            return earlier
    try:
        purchase = _purchase_open(
            business=business,
            user=user,
            quote=quote,
            method=payment_method,
            callback=callback,
            channels=channels,
        )
    except Exception:
        if idempotency_key:  # nothing useful to replay: let the client retry with the same key
            PurchaseIdempotencyKey.objects.filter(user=user, key=idempotency_key).delete()
        raise
    if idempotency_key:
        PurchaseIdempotencyKey.objects.filter(user=user, key=idempotency_key).update(
            purchase=purchase
        )
    return purchase


def _purchase_open(*, business, user, quote, method, callback, channels) -> AICreditPurchase:
    invoice = quote.invoice
    # Committed before Paystack is called, so a purchase is never lost whatever happens next.
    purchase = purchase_create(
        business=business,
        user=user,
        package=quote.package,
        amount_paid=invoice.base_amount,
        total_tax=invoice.total_tax,
        total_amount=invoice.total_amount,
        currency=invoice.currency,
        credits_purchased=quote.credits,
        bonus_credits=quote.bonus_credits,
        tax_lines=[
            {**line, "rate": str(line["rate"]), "amount": str(line["amount"])}
            for line in invoice.taxes
        ],
        payment_method=method,
        callback_url=callback,
    )
    try:
        checkout = PaystackService().initialize_transaction(
            email=user.email or business.email or business.owner.email,
            amount=to_pesewas(invoice.total_amount),
            currency=invoice.currency,
            reference=purchase.payment_reference,
            callback_url=callback,
            channels=channels,
            metadata={
                "purchase_id": purchase.pk,
                "business_id": business.pk,
                "credits": str(quote.total_credits),
            },
        )
    except PaystackError as exc:
        purchase.gateway_status = "initialize_error"
        purchase.failure_reason = f"Paystack initialize failed: {exc.detail}"
        purchase.save(update_fields=["gateway_status", "failure_reason"])
        logger.warning(
            "purchase initialize failed reference=%s error=%s",
            purchase.payment_reference,
            type(exc).__name__,
        )
        raise
    purchase.authorization_url = checkout.get("authorization_url", "")
    purchase.access_code = checkout.get("access_code", "")
    purchase.gateway_status = "initialized"
    purchase.save(update_fields=["authorization_url", "access_code", "gateway_status"])
    logger.info(
        "purchase started reference=%s status=%s amount=%s %s credits=%s",
        purchase.payment_reference,
        purchase.payment_status,
        purchase.total_amount,
        purchase.currency,
        purchase.total_credits,
    )
    return purchase


def purchases_list(
    *, business: Business | None = None, status: str | None = None
) -> QuerySet[AICreditPurchase]:
    """Purchases newest first: one business's, or (for staff) everyone's; optionally by status."""
    found = AICreditPurchase.objects.select_related("business").order_by("-purchased_at", "-id")
    if business is not None:
        found = found.filter(business=business)
    if status:
        found = found.filter(payment_status=status)
    return found
