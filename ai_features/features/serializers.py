"""Input and output shapes of the AI feature endpoints (design section 12)."""

from decimal import Decimal

from rest_framework import serializers

from ai_features.features.customer_insight import SEGMENTS
from ai_features.fields import MoneyField, StrictDateField, StrictDecimalField

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}
TONES = ["professional", "friendly", "playful"]


class FeatureOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    credits = serializers.DecimalField(**MONEY, allow_null=True)
    enabled = serializers.BooleanField()


class ProductDescriptionInputSerializer(serializers.Serializer):
    product_name = serializers.CharField(min_length=1, max_length=200)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    features = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=200), max_length=20, required=False
    )
    tone = serializers.ChoiceField(choices=TONES, default="professional")
    max_words = serializers.IntegerField(min_value=20, max_value=300, default=120)


class PurchaseLineInputSerializer(serializers.Serializer):
    item = serializers.CharField(min_length=1, max_length=200)
    quantity = StrictDecimalField(max_digits=12, decimal_places=3)
    amount = MoneyField(min_value=Decimal("0"))
    date = StrictDateField()

    def validate_quantity(self, value):
        if value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        return value


class CustomerInsightInputSerializer(serializers.Serializer):
    customer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    purchases = serializers.ListField(
        child=PurchaseLineInputSerializer(), min_length=1, max_length=500
    )
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class DescriptionResultSerializer(serializers.Serializer):
    description = serializers.CharField()


class InsightResultSerializer(serializers.Serializer):
    summary = serializers.CharField()
    segment = serializers.CharField(help_text=f"Usually one of: {', '.join(SEGMENTS)}.")
    recommendations = serializers.ListField(child=serializers.CharField())


class _FeatureAnswerSerializer(serializers.Serializer):
    feature = serializers.CharField()
    credits_charged = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)
    transaction_id = serializers.IntegerField()
    tokens_used = serializers.IntegerField()


class ProductDescriptionOutputSerializer(_FeatureAnswerSerializer):
    result = DescriptionResultSerializer()


class CustomerInsightOutputSerializer(_FeatureAnswerSerializer):
    result = InsightResultSerializer()


class InsufficientCreditsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(["insufficient_credits", "credits_expired"])
    balance = serializers.DecimalField(**MONEY)
    price = serializers.DecimalField(**MONEY)
