from rest_framework import serializers

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
