"""Stripe's answer side: each sandbox row as the JSON object Stripe returns for it.

Field sets and key order follow the API reference examples in shared/stripe/fixtures
(`product.json`, `price.one_time.json`, `checkout_session.created.json`,
`checkout_session.line_items.json`, `charge.json`, `refund.json` and
`event.object.api_reference.json`).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.stripe.models import (
    StripeSandboxCharge,
    StripeSandboxDispute,
    StripeSandboxLineItem,
    StripeSandboxPrice,
    StripeSandboxProduct,
    StripeSandboxRefund,
    StripeSandboxSession,
)

# The API version stripe-python 16.1.0 pins; events say which version shaped their object.
API_VERSION = "2026-10-28.endive"
# Stripe's zero-decimal currencies: an amount of 100 is ¥100, not ¥1.00.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)
TEST_CARD = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}


def unix(moment: datetime | None) -> int | None:
    """Stripe's timestamps: whole seconds since the epoch."""
    return int(moment.timestamp()) if moment else None


def amount_display(amount: int, currency: str) -> str:
    """`2198, "usd"` -> `"USD 21.98"`; zero-decimal currencies keep their whole units."""
    code = currency.upper()
    if currency in ZERO_DECIMAL:
        return f"{code} {amount}"
    return f"{code} {Decimal(amount) / 100:.2f}"


def list_object(data: list[dict], *, url: str, has_more: bool = False) -> dict:
    """Stripe's list envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def product(obj: StripeSandboxProduct) -> dict:
    """A Product, as `product.json`."""
    return {
        "id": obj.stripe_id,
        "object": "product",
        "active": obj.active,
        "created": unix(obj.created_at),
        "default_price": None,
        "description": obj.description,
        "images": [],
        "marketing_features": [],
        "livemode": False,
        "metadata": obj.metadata,
        "name": obj.name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": None,
        "updated": unix(obj.updated_at),
        "url": None,
    }


def price(obj: StripeSandboxPrice) -> dict:
    """A one-time Price, as `price.one_time.json`."""
    return {
        "id": obj.stripe_id,
        "object": "price",
        "active": obj.active,
        "billing_scheme": "per_unit",
        "created": unix(obj.created_at),
        "currency": obj.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": obj.lookup_key,
        "metadata": obj.metadata,
        "nickname": obj.nickname,
        "product": obj.product.stripe_id,
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": obj.unit_amount,
        "unit_amount_decimal": str(obj.unit_amount),
    }


def line_item(obj: StripeSandboxLineItem) -> dict:
    """A Checkout line item, as in `checkout_session.line_items.json`."""
    amount = obj.amount
    return {
        "id": obj.stripe_id,
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": obj.price.currency,
        "description": obj.price.product.name,
        "price": price(obj.price),
        "quantity": obj.quantity,
    }


def line_items_list(session: StripeSandboxSession, items: list[dict], has_more: bool) -> dict:
    """The list `GET /v1/checkout/sessions/{id}/line_items` answers (and `expand` embeds)."""
    url = f"/v1/checkout/sessions/{session.stripe_id}/line_items"
    return list_object(items, url=url, has_more=has_more)


def _customer_details(obj: StripeSandboxSession) -> dict | None:
    if obj.status != StripeSandboxSession.Status.COMPLETE:
        return None
    return {
        "address": None,
        "email": obj.customer_details_email,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def session(obj: StripeSandboxSession, *, line_items: dict | None = None) -> dict:
    """A Checkout Session in `payment` mode, as `checkout_session.created.json`; `url` is the
    sandbox's checkout page while the session is open, and null after, as Stripe's is."""
    body = {
        "id": obj.stripe_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": obj.amount_total,
        "amount_total": obj.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": obj.cancel_url,
        "client_reference_id": obj.client_reference_id,
        "consent": None,
        "consent_collection": None,
        "created": unix(obj.created_at),
        "currency": obj.currency,
        "custom_fields": [],
        "custom_text": {"shipping_address": None, "submit": None},
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": _customer_details(obj),
        "customer_email": obj.customer_email,
        "expires_at": unix(obj.expires_at),
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": None,
        "metadata": obj.metadata,
        "mode": "payment",
        "payment_intent": obj.payment_intent_id,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": obj.payment_status,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "status": obj.status,
        "submit_type": None,
        "subscription": None,
        "success_url": obj.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": obj.page_url if obj.status == StripeSandboxSession.Status.OPEN else None,
    }
    if line_items is not None:
        body["line_items"] = line_items
    return body


def _suffix(stripe_id: str) -> str:
    return stripe_id.split("_", 1)[1]


def charge(obj: StripeSandboxCharge) -> dict:
    """A card Charge paid with the 4242 test card, as `charge.json`."""
    email = obj.session.customer_details_email
    return {
        "id": obj.stripe_id,
        "object": "charge",
        "amount": obj.amount,
        "amount_captured": obj.amount,
        "amount_refunded": obj.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": f"txn_{_suffix(obj.stripe_id)}",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": email,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "SANDBOX",
        "captured": True,
        "created": unix(obj.created_at),
        "currency": obj.currency,
        "customer": None,
        "description": None,
        "disputed": StripeSandboxDispute.objects.filter(charge=obj).exists(),
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": obj.metadata,
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": obj.payment_intent_id,
        "payment_method": f"pm_{_suffix(obj.stripe_id)}",
        "payment_method_details": {
            "card": {
                "brand": TEST_CARD["brand"],
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": TEST_CARD["exp_month"],
                "exp_year": TEST_CARD["exp_year"],
                "fingerprint": "SandboxCard4242",
                "funding": "credit",
                "installments": None,
                "last4": TEST_CARD["last4"],
                "mandate": None,
                "network": "visa",
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": obj.refunded,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(obj: StripeSandboxRefund) -> dict:
    """A card Refund, succeeded at once, as `refund.json`."""
    return {
        "id": obj.stripe_id,
        "object": "refund",
        "amount": obj.amount,
        "balance_transaction": f"txn_{_suffix(obj.stripe_id)}",
        "charge": obj.charge.stripe_id,
        "created": unix(obj.created_at),
        "currency": obj.charge.currency,
        "destination_details": {
            "card": {
                "reference": f"{obj.pk:012d}",
                "reference_status": "available",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": obj.metadata,
        "payment_intent": obj.charge.payment_intent_id,
        "reason": obj.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "product_description",
    "receipt",
    "refund_policy",
    "service_date",
    "shipping_documentation",
    "uncategorized_text",
)
RESPONSE_DAYS = 7  # how long the stand-in gives the merchant to answer (`evidence_details.due_by`)


def dispute(obj: StripeSandboxDispute) -> dict:
    """A card Dispute, with the fields of shared/stripe/README.md section 9b and the usual
    envelope ones; no evidence is ever submitted in the stand-in."""
    return {
        "id": obj.stripe_id,
        "object": "dispute",
        "amount": obj.amount,
        "balance_transactions": [],
        "charge": obj.charge.stripe_id,
        "created": unix(obj.created_at),
        "currency": obj.currency,
        "evidence": dict.fromkeys(EVIDENCE_FIELDS),
        "evidence_details": {
            "due_by": unix(obj.created_at + timedelta(days=RESPONSE_DAYS)),
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": obj.charge.payment_intent_id,
        "payment_method_details": {
            "card": {"brand": TEST_CARD["brand"], "case_type": "chargeback"},
            "type": "card",
        },
        "reason": obj.reason,
        "status": obj.status,
    }


def event(
    *,
    event_id: str,
    event_type: str,
    created: int,
    data_object: dict,
    pending_webhooks: int,
    request: dict | None,
) -> dict:
    """The event envelope, as `event.object.api_reference.json`; `request` names the API call
    that caused it (null id for what the customer did on the checkout page)."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": data_object},
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": request or {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def amount_parse(text: str, currency: str) -> int:
    """`"21.98", "usd"` -> `2198`: a typed amount in major units, to Stripe's integer; raises
    ValueError for anything else (negative, too many decimals, not a number)."""
    places = 0 if currency in ZERO_DECIMAL else 2
    try:
        value = Decimal(text.strip())
    except ArithmeticError as exc:
        raise ValueError(text) from exc
    if not value.is_finite() or value <= 0 or value != round(value, places):
        raise ValueError(text)
    return int(value.scaleb(places))
