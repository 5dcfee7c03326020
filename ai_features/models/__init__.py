"""The app's models, one module per room (design section 2): credits, payments, features,
and the idempotency keys both payments and features use.
Everything is importable from here, as `from ai_features.models import …`."""

from ai_features.models.credits import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    MONEY,
    AITransaction,
    AIUsageAlert,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
    UsageDaily,
    UsageRollupState,
)
from ai_features.models.features import AIFeaturePrice
from ai_features.models.idempotency import KEY_LIFETIME, IdempotencyKey
from ai_features.models.payments import (
    TOLERANCE,
    AICreditPurchase,
    CreditPackage,
    InvalidWebhookCount,
    PurchaseDispute,
    PurchaseManager,
    PurchaseRefund,
    WebhookEvent,
    payment_reference_new,
)

__all__ = [
    "CREDIT_KINDS",
    "DEBIT_KINDS",
    "KEY_LIFETIME",
    "MONEY",
    "TOLERANCE",
    "AICreditPurchase",
    "AIFeaturePrice",
    "AITransaction",
    "AIUsageAlert",
    "BusinessAICredits",
    "CreditClawback",
    "CreditLedgerEntry",
    "CreditPackage",
    "IdempotencyKey",
    "InvalidWebhookCount",
    "PurchaseDispute",
    "PurchaseManager",
    "PurchaseRefund",
    "UsageDaily",
    "UsageRollupState",
    "WebhookEvent",
    "payment_reference_new",
]
