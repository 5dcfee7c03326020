"""The payment gateways, each one module behind the interface in `base` (as Django's
`contrib/sessions/backends/`): `paystack` and `stripe`. This registry imports the gateways; they
import only `base`, never each other, nor the payment services."""

from django.db.models import Q

from ai_features.payments.gateways.base import (
    Checkout,
    Gateway,
    Verdict,
    VerdictStatus,
    WebhookDelivery,
)
from ai_features.payments.gateways.paystack import PaystackGateway
from ai_features.payments.gateways.stripe import StripeGateway

GATEWAYS: dict[str, type] = {"paystack": PaystackGateway, "stripe": StripeGateway}

__all__ = [
    "GATEWAYS",
    "Checkout",
    "Gateway",
    "Verdict",
    "VerdictStatus",
    "WebhookDelivery",
    "gateway_for",
    "returned_checkout",
]


def gateway_for(name: str) -> Gateway:
    """The gateway a purchase was (or is to be) paid through."""
    return GATEWAYS[name]()


def returned_checkout(checkout_id: str) -> Q:
    """The purchases a payer coming back with a gateway's own checkout id (Stripe's
    `session_id`) may mean: of each gateway that `returns_with_checkout_id`, the one whose
    checkout it is."""
    found = Q(pk__in=[])
    for name, gateway in GATEWAYS.items():
        if gateway.returns_with_checkout_id:
            found |= Q(gateway=name, **{gateway.checkout_id_field: checkout_id})
    return found
