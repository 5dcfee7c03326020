"""Input and output shapes of the buying endpoints (design sections 5, 8 and 13)."""

from rest_framework import serializers

from ai_features.fields import MoneyField
from ai_features.payments.gateways import GATEWAYS, gateway_for
from ai_features.payments.gateways.paystack import CHANNELS as PAYSTACK_CHANNELS
from ai_features.payments.packages import CUSTOM, CUSTOM_MAX, CUSTOM_MIN

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


class PackagePriceOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    gateway = serializers.ChoiceField(sorted(GATEWAYS))


class PackageOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    credits = serializers.DecimalField(**MONEY)
    bonus_credits = serializers.DecimalField(**MONEY)
    total_credits = serializers.DecimalField(**MONEY)
    savings_percent = serializers.IntegerField()
    prices = PackagePriceOutputSerializer(many=True, source="gateway_prices")


class PurchaseInputSerializer(serializers.Serializer):
    package = serializers.CharField(max_length=30)
    custom_amount = MoneyField(
        min_value=CUSTOM_MIN,
        max_value=CUSTOM_MAX,
        required=False,
        allow_null=True,
    )
    payment_method = serializers.ChoiceField(
        choices=["mobile_money", "card"],
        default="mobile_money",
        help_text="The buyer's preference, recorded on the purchase; it does not narrow the "
        "checkout.",
    )
    callback_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=PAYSTACK_CHANNELS),
        required=False,
        allow_null=True,
        allow_empty=False,
        max_length=len(PAYSTACK_CHANNELS),
        help_text="Narrow Paystack's checkout to these channels. Left out, the payer picks any "
        "channel the business accepts (card, mobile money, bank transfer, ...).",
    )

    def validate_channels(self, channels):
        if channels is not None and len(set(channels)) != len(channels):
            raise serializers.ValidationError("Name each channel once.")
        return channels

    gateway = serializers.ChoiceField(choices=sorted(GATEWAYS), default="paystack")
    success_url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Stripe only: where the browser lands after paying; may hold Stripe's "
        "`{CHECKOUT_SESSION_ID}` placeholder. Host-checked like callback_url.",
    )
    cancel_url = serializers.URLField(
        max_length=500, required=False, allow_blank=True, help_text="Stripe only."
    )

    def validate(self, attrs):
        refused = gateway_for(attrs["gateway"]).purchase_options_refused(options=attrs)
        if refused:
            raise serializers.ValidationError(refused)
        custom = attrs["package"] == CUSTOM
        if custom and attrs.get("custom_amount") is None:
            raise serializers.ValidationError(
                {"custom_amount": ["This field is required for a custom purchase."]}
            )
        if not custom and attrs.get("custom_amount") is not None:
            raise serializers.ValidationError(
                {"custom_amount": ["Only a custom purchase takes custom_amount."]}
            )
        return attrs


class TaxLineOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    rate = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    amount = serializers.DecimalField(**MONEY)


class InvoiceOutputSerializer(serializers.Serializer):
    base_amount = serializers.DecimalField(**MONEY, source="amount_paid")
    taxes = TaxLineOutputSerializer(many=True, source="tax_lines")
    total_tax = serializers.DecimalField(**MONEY)
    total_amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()


class PurchaseStartedOutputSerializer(serializers.Serializer):
    authorization_url = serializers.URLField()
    access_code = serializers.CharField()
    reference = serializers.CharField(source="payment_reference")
    # What Paystack charges (seed 002's SPA reads it): the invoice's total, tax included.
    amount = serializers.DecimalField(**MONEY, source="total_amount")
    invoice = InvoiceOutputSerializer(source="*")
    credits_to_add = serializers.DecimalField(**MONEY, source="total_credits")
    package = serializers.CharField()


class StripePurchaseStartedOutputSerializer(serializers.Serializer):
    """Seed 003's answer (`checkout_url`, `session_id`) and the same purchase fields."""

    checkout_url = serializers.URLField(source="authorization_url")
    session_id = serializers.CharField(source="checkout_session_id")
    reference = serializers.CharField(source="payment_reference")
    amount = serializers.DecimalField(**MONEY, source="total_amount")
    invoice = InvoiceOutputSerializer(source="*")
    credits_to_add = serializers.DecimalField(**MONEY, source="total_credits")
    package = serializers.CharField()


# The answer to a started purchase, by its gateway: each seed's SPA reads its own shape.
PURCHASE_STARTED_ANSWERS = {
    "paystack": PurchaseStartedOutputSerializer,
    "stripe": StripePurchaseStartedOutputSerializer,
}


class PurchaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    payment_reference = serializers.CharField()
    package = serializers.CharField()
    payment_method = serializers.CharField()
    payment_status = serializers.CharField()
    amount_paid = serializers.DecimalField(**MONEY)
    total_tax = serializers.DecimalField(**MONEY)
    total_amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()
    credits_purchased = serializers.DecimalField(**MONEY)
    bonus_credits = serializers.DecimalField(**MONEY)
    purchased_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class AdminPurchaseOutputSerializer(PurchaseOutputSerializer):
    business_id = serializers.IntegerField()
    business_name = serializers.CharField(source="business.name")
    gateway_status = serializers.CharField()
    failure_reason = serializers.CharField()
    refunded_credits = serializers.DecimalField(**MONEY)
    refund_shortfall = serializers.DecimalField(**MONEY)


class VerifyInputSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100, required=False)
    trxref = serializers.CharField(max_length=100, required=False)
    session_id = serializers.CharField(
        max_length=255, required=False, help_text="Stripe's Checkout Session id (`cs_…`)."
    )

    def validate(self, attrs):
        reference = attrs.get("reference") or attrs.get("trxref")
        if not reference and not attrs.get("session_id"):
            raise serializers.ValidationError(
                {"reference": ["This field (or trxref, or session_id) is required."]}
            )
        return {"reference": reference, "session_id": attrs.get("session_id")}


class PurchaseStatusFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending", "completed", "failed", "refunded", "disputed"], required=False
    )
