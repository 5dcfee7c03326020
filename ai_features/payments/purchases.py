"""Starting a purchase: a pending row first, then a checkout at its gateway (design sections 8
and 13)."""

import logging
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Business
from ai_features import idempotency
from ai_features.credits.money import ZERO
from ai_features.models import MONEY, AICreditPurchase, CreditClawback
from ai_features.payments.errors import GatewayError, GatewayNotConfigured
from ai_features.payments.gateways import gateway_for
from ai_features.payments.packages import Quote, purchase_quote

logger = logging.getLogger(__name__)
Gateway = AICreditPurchase.Gateway


def purchase_create(**fields) -> AICreditPurchase:
    """A purchase with a fresh `AI-CREDIT-…` reference."""
    return AICreditPurchase.objects.create_with_reference(**fields)


def purchase_start(
    *,
    business: Business,
    user,
    package: str,
    custom_amount: Decimal | None = None,
    payment_method: str = AICreditPurchase.PaymentMethod.MOBILE_MONEY,
    callback_url: str | None = None,
    channels: list[str] | None = None,
    gateway: str = Gateway.PAYSTACK,
    success_url: str | None = None,
    cancel_url: str | None = None,
    idempotency_key: str | None = None,
) -> AICreditPurchase:
    """Create a pending purchase and open a checkout for it at the chosen gateway.

    `payment_method` is the buyer's recorded preference; only `channels` narrows a Paystack
    checkout."""
    paid_through = gateway_for(gateway)
    if not paid_through.is_configured():
        raise GatewayNotConfigured()
    quote = purchase_quote(package=package, custom_amount=custom_amount, gateway=gateway)
    return_url, cancel = paid_through.return_urls(
        callback_url=callback_url, success_url=success_url, cancel_url=cancel_url
    )
    payment_method = paid_through.payment_method_for(requested=payment_method)
    if idempotency_key:
        fingerprint = idempotency.request_fingerprint(
            business=business.pk,
            package=package,
            custom_amount=custom_amount,
            payment_method=payment_method,
            callback_url=callback_url,
            channels=channels,
            gateway=gateway,
            success_url=success_url,
            cancel_url=cancel_url,
        )
        claim = idempotency.idempotency_claim(
            scope=idempotency.Scope.PURCHASE,
            user=user,
            business=business,
            key=idempotency_key,
            fingerprint=fingerprint,
        )
        if claim.purchase_id is not None:  # a replay: the purchase, serialized afresh
            return claim.purchase
    try:
        purchase = _purchase_open(
            business=business,
            user=user,
            quote=quote,
            gateway=gateway,
            method=payment_method,
            return_url=return_url,
            cancel_url=cancel,
            channels=channels,
        )
    except Exception:
        if idempotency_key:
            idempotency.idempotency_forget(claim=claim)
        raise
    if idempotency_key:
        idempotency.idempotency_answer_store(claim=claim, purchase=purchase)
    return purchase


def _purchase_open(
    *, business, user, quote: Quote, gateway, method, return_url, cancel_url, channels
) -> AICreditPurchase:
    invoice = quote.invoice
    # Committed before the gateway is called, so a purchase is never lost whatever happens next.
    purchase = purchase_create(
        business=business,
        user=user,
        gateway=gateway,
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
        callback_url=return_url,
    )
    paid_through = gateway_for(gateway)
    try:
        checkout = paid_through.checkout_start(
            purchase=purchase,
            email=user.email or business.email or business.owner.email,
            return_url=return_url,
            cancel_url=cancel_url,
            channels=channels,
        )
    except GatewayError as exc:
        purchase.gateway_status = "initialize_error"
        purchase.failure_reason = f"{gateway.capitalize()} checkout failed: {exc.detail}"
        purchase.save(update_fields=["gateway_status", "failure_reason"])
        logger.warning(
            "purchase checkout failed reference=%s gateway=%s error=%s",
            purchase.payment_reference,
            gateway,
            type(exc).__name__,
        )
        raise
    purchase.authorization_url = checkout.url
    setattr(purchase, paid_through.checkout_id_field, checkout.checkout_id)
    purchase.gateway_status = "initialized"
    purchase.save(
        update_fields=["authorization_url", "access_code", "checkout_session_id", "gateway_status"]
    )
    logger.info(
        "purchase started reference=%s gateway=%s amount=%s %s credits=%s",
        purchase.payment_reference,
        gateway,
        purchase.total_amount,
        purchase.currency,
        purchase.total_credits,
    )
    return purchase


def purchases_with_clawbacks(purchases: QuerySet[AICreditPurchase]) -> QuerySet:
    """Purchases with their claims' sums, which `refunded_credits` and `refund_shortfall` read."""

    def summed(field: str, **extra):
        claims = CreditClawback.objects.filter(purchase=OuterRef("pk"), **extra)
        total = claims.values("purchase").annotate(total=Sum(field)).values("total")
        return Coalesce(Subquery(total), Value(ZERO), output_field=DecimalField(**MONEY))

    return purchases.annotate(
        clawback_taken=summed("taken"),
        clawback_returned=summed("returned"),
        clawback_shortfall=summed("shortfall", cancelled=False),
    )


def purchases_list(
    *, business: Business | None = None, status: str | None = None
) -> QuerySet[AICreditPurchase]:
    """Purchases newest first: one business's, or (for staff) everyone's; optionally by status."""
    found = AICreditPurchase.objects.select_related("business").order_by("-purchased_at", "-id")
    if business is not None:
        found = found.filter(business=business)
    else:  # staff see what refunds and disputes took back, without a query per purchase
        found = purchases_with_clawbacks(found)
    if status:
        found = found.filter(payment_status=status)
    return found
