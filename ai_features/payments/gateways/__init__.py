"""The payment gateways, each one module behind the interface in `base` (as Django's
`contrib/sessions/backends/`): `paystack` and `stripe`. This registry imports the gateways; they
import only `base`, never each other."""

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

__all__ = ["Checkout", "Gateway", "Verdict", "VerdictStatus", "WebhookDelivery", "gateway_for"]


def gateway_for(name: str) -> Gateway:
    """The gateway a purchase was (or is to be) paid through."""
    return GATEWAYS[name]()
