"""The sandbox's tables: each stand-in keeps its models in its own subpackage; importing them
here registers them with the app (label `sandbox`)."""

from sandbox.paystack.models import SandboxDispute, SandboxRefund, SandboxTransaction
from sandbox.stripe.models import (
    StripeSandboxCharge,
    StripeSandboxDispute,
    StripeSandboxEvent,
    StripeSandboxIdempotencyKey,
    StripeSandboxLineItem,
    StripeSandboxPrice,
    StripeSandboxProduct,
    StripeSandboxRefund,
    StripeSandboxSession,
)

__all__ = [
    "SandboxDispute",
    "SandboxRefund",
    "SandboxTransaction",
    "StripeSandboxCharge",
    "StripeSandboxDispute",
    "StripeSandboxEvent",
    "StripeSandboxIdempotencyKey",
    "StripeSandboxLineItem",
    "StripeSandboxPrice",
    "StripeSandboxProduct",
    "StripeSandboxRefund",
    "StripeSandboxSession",
]
