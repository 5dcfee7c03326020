from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ai_features.payments.packages import CUSTOM, CUSTOM_MAX, CUSTOM_MIN
from ai_features.payments.paystack import CHANNELS as PAYSTACK_CHANNELS
from ai_features.services.usage import DAILY_MAX_DAYS, period_is_backwards

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


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


class BalanceOutputSerializer(serializers.Serializer):
    balance = serializers.DecimalField(**MONEY)
    expires_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()


class LedgerEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    balance_after = serializers.DecimalField(**MONEY)
    purchase_reference = serializers.CharField(
        source="purchase.payment_reference", allow_null=True, default=None
    )
    transaction_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class PurchaseInputSerializer(serializers.Serializer):
    package = serializers.CharField(max_length=30)
    custom_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
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

    def validate(self, attrs):
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

    def validate(self, attrs):
        reference = attrs.get("reference") or attrs.get("trxref")
        if not reference:
            raise serializers.ValidationError({"reference": ["This field is required."]})
        return {"reference": reference}


class PurchaseStatusFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending", "completed", "failed", "refunded"], required=False
    )


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    """`2026-01-31` (the whole day) or an ISO 8601 moment."""

    default_error_messages = {"invalid": "Use a date (YYYY-MM-DD) or an ISO 8601 date-time."}

    def to_internal_value(self, data):
        for field in (serializers.DateField(), serializers.DateTimeField()):
            try:
                return field.to_internal_value(data)
            except serializers.ValidationError:
                continue
        self.fail("invalid")

    def to_representation(self, value):
        return value.isoformat() if value is not None else None


class PeriodFilterSerializer(serializers.Serializer):
    start = DateOrDateTimeField(source="start", required=False)
    end = DateOrDateTimeField(source="end", required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a keyword in Python, so the fields are renamed on the way in.
        fields["from"] = fields.pop("start")
        fields["to"] = fields.pop("end")
        return fields

    def validate(self, attrs):
        if period_is_backwards(attrs.get("start"), attrs.get("end")):
            raise serializers.ValidationError({"to": ["Must not be before `from`."]})
        return attrs


class TransactionFilterSerializer(PeriodFilterSerializer):
    feature = serializers.CharField(max_length=50, required=False)
    success = serializers.BooleanField(required=False, allow_null=True, default=None)


class TransactionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    feature = serializers.CharField()
    status = serializers.CharField()
    success = serializers.BooleanField()
    credits_used = serializers.DecimalField(**MONEY)
    credits_held = serializers.DecimalField(**MONEY)
    tokens_used = serializers.IntegerField()
    processing_time_ms = serializers.IntegerField(allow_null=True)
    error_message = serializers.CharField()
    timestamp = serializers.DateTimeField()


class UsageRowOutputSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    successes = serializers.IntegerField()
    credits_used = serializers.DecimalField(**MONEY)
    tokens_used = serializers.IntegerField()


class UsageFeatureOutputSerializer(UsageRowOutputSerializer):
    feature = serializers.CharField()


class UsageSummaryOutputSerializer(serializers.Serializer):
    features = UsageFeatureOutputSerializer(many=True)
    totals = UsageRowOutputSerializer()

    def to_representation(self, instance):
        period = DateOrDateTimeField()
        return {
            "from": period.to_representation(instance["start"]),
            "to": period.to_representation(instance["end"]),
            **super().to_representation(instance),
        }


class AlertFilterSerializer(serializers.Serializer):
    acknowledged = serializers.BooleanField(required=False, allow_null=True, default=None)


class AlertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    alert_type = serializers.CharField()
    current_balance = serializers.DecimalField(**MONEY)
    threshold = serializers.DecimalField(**MONEY, allow_null=True)
    sent_at = serializers.DateTimeField()
    acknowledged = serializers.BooleanField()


class DailyUsageFilterSerializer(serializers.Serializer):
    """Whole days only; at most a year, so a chart request cannot ask for centuries of zeros."""

    start = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    end = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("start")
        fields["to"] = fields.pop("end")
        for name in ("from", "to"):
            fields[name].source = "start" if name == "from" else "end"
        return fields

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"to": ["Must not be before `from`."]})
        if start and end and (end - start).days >= DAILY_MAX_DAYS:
            raise serializers.ValidationError(
                {"from": [f"The period may span at most {DAILY_MAX_DAYS} days."]}
            )
        return attrs


class DailyUsageOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    credits = serializers.DecimalField(**MONEY)
    requests = serializers.IntegerField()
