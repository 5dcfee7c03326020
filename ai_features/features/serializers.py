"""The shapes every AI feature endpoint shares (design section 12); each feature's own input
and `result` are in its module of `catalog/`."""

from rest_framework import serializers

from ai_features.features.base import MONEY


class FeatureOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    credits = serializers.DecimalField(**MONEY, allow_null=True)
    enabled = serializers.BooleanField()


class InsufficientCreditsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(["insufficient_credits", "credits_expired"])
    balance = serializers.DecimalField(**MONEY)
    price = serializers.DecimalField(**MONEY)
