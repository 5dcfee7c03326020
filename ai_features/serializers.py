import contextlib

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ai_features.credits.dates import date_parse, datetime_parse
from ai_features.credits.usage import DAILY_MAX_DAYS, period_is_backwards
from ai_features.fields import StrictDateField

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


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
    transaction_id = serializers.IntegerField(source="usage_id", allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    """`2026-01-31` (the whole day) or an ISO 8601 moment."""

    default_error_messages = {"invalid": "Use a date (YYYY-MM-DD) or an ISO 8601 date-time."}

    def to_internal_value(self, data):
        with contextlib.suppress(ValueError):
            return date_parse(data)
        try:
            moment = datetime_parse(data)
        except ValueError:
            self.fail("invalid")
        return serializers.DateTimeField().enforce_timezone(moment)  # naive: local time

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


class IdField(serializers.IntegerField):
    """A row's id: ASCII digits only (int() would also read `1_000` and Arabic-Indic digits),
    within what the column holds, so a wrong id is a 400 rather than a database error."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**63 - 1, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not (data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class TransactionFilterSerializer(PeriodFilterSerializer):
    feature = serializers.CharField(max_length=50, required=False)
    success = serializers.BooleanField(required=False, allow_null=True, default=None)
    user = IdField(required=False, help_text="Only the calls this user (by id) made.")


class UserRefOutputSerializer(serializers.Serializer):
    """Who made a call; null once that user is deleted."""

    id = serializers.IntegerField()
    username = serializers.CharField()


class TransactionOutputSerializer(serializers.Serializer):
    """A feature call as the shop sees it: never what it cost us (`cost_to_us`)."""

    id = serializers.IntegerField()
    user = UserRefOutputSerializer(allow_null=True)
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


class UsageUserOutputSerializer(UsageRowOutputSerializer):
    user = UserRefOutputSerializer(allow_null=True, help_text="Null for deleted users' calls.")


class UsageSummaryFilterSerializer(PeriodFilterSerializer):
    by = serializers.ChoiceField(
        ["feature", "user"], default="feature", help_text="One row per feature, or per user."
    )


class _UsageSummaryOutputSerializer(serializers.Serializer):
    start = DateOrDateTimeField(source="start", allow_null=True)
    end = DateOrDateTimeField(source="end", allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        # The period as it was asked for: "from" is a keyword in Python, so renamed here.
        return {"from": fields.pop("start"), "to": fields.pop("end"), **fields}


class UsageSummaryOutputSerializer(_UsageSummaryOutputSerializer):
    """Usage per feature over the period, and its totals."""

    features = UsageFeatureOutputSerializer(many=True)
    totals = UsageRowOutputSerializer()


class UsageSummaryByUserOutputSerializer(_UsageSummaryOutputSerializer):
    """Usage per user who made the calls over the period (`by=user`), and its totals."""

    users = UsageUserOutputSerializer(many=True)
    totals = UsageRowOutputSerializer()


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

    start = StrictDateField(required=False)
    end = StrictDateField(required=False)

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
