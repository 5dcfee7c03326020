from drf_spectacular.utils import extend_schema
from rest_framework.decorators import (
    api_view,
)
from rest_framework.response import Response

from accounts.services import business_for_request
from ai_features import openapi
from ai_features.credits.alerts import alert_acknowledge as alert_acknowledge_service
from ai_features.credits.alerts import alerts_list
from ai_features.credits.credits import balance_get
from ai_features.credits.ledger import ledger_entries
from ai_features.credits.usage import transactions_filter, usage_daily, usage_summary
from ai_features.serializers import (
    AlertFilterSerializer,
    AlertOutputSerializer,
    BalanceOutputSerializer,
    DailyUsageFilterSerializer,
    DailyUsageOutputSerializer,
    LedgerEntryOutputSerializer,
    TransactionFilterSerializer,
    TransactionOutputSerializer,
    UsageSummaryByUserOutputSerializer,
    UsageSummaryFilterSerializer,
    UsageSummaryOutputSerializer,
)
from pos.pagination import paginated


@extend_schema(**openapi.BALANCE)
@api_view(["GET"])
def balance(request):
    business = business_for_request(request)
    return Response(BalanceOutputSerializer(balance_get(business=business)).data)


# By id alone: an entry's created_at can be stamped before its lock is won.
LEDGER_ORDER = ("id",)


@extend_schema(**openapi.LEDGER)
@api_view(["GET"])
def ledger(request):
    business = business_for_request(request)
    entries = ledger_entries(business=business)
    return paginated(request, entries, LedgerEntryOutputSerializer, keyset=LEDGER_ORDER)


@extend_schema(**openapi.TRANSACTIONS)
@api_view(["GET"])
def transactions(request):
    business = business_for_request(request)
    filters = TransactionFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    found = transactions_filter(business=business, **filters.validated_data)
    return paginated(request, found, TransactionOutputSerializer, keyset=("timestamp", "id"))


SUMMARY_OUTPUTS = {
    "feature": UsageSummaryOutputSerializer,
    "user": UsageSummaryByUserOutputSerializer,
}


@extend_schema(**openapi.USAGE_SUMMARY)
@api_view(["GET"])
def usage_summary_view(request):
    business = business_for_request(request)
    period = UsageSummaryFilterSerializer(data=request.query_params)
    period.is_valid(raise_exception=True)
    summary = usage_summary(business=business, **period.validated_data)
    output = SUMMARY_OUTPUTS[period.validated_data["by"]]
    return Response(output(summary).data)


@extend_schema(**openapi.USAGE_DAILY)
@api_view(["GET"])
def usage_daily_view(request):
    business = business_for_request(request)
    period = DailyUsageFilterSerializer(data=request.query_params)
    period.is_valid(raise_exception=True)
    days = usage_daily(business=business, **period.validated_data)
    return Response(DailyUsageOutputSerializer(days, many=True).data)


@extend_schema(**openapi.ALERTS)
@api_view(["GET"])
def alerts(request):
    business = business_for_request(request)
    filters = AlertFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    found = alerts_list(business=business, **filters.validated_data)
    return paginated(request, found, AlertOutputSerializer, keyset=("sent_at", "id"))


@extend_schema(**openapi.ALERT_ACKNOWLEDGE)
@api_view(["POST"])
def alert_acknowledge(request, alert_id: int):
    business = business_for_request(request)
    alert = alert_acknowledge_service(business=business, alert_id=alert_id)
    return Response(AlertOutputSerializer(alert).data)
