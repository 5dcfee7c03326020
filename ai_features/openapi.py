"""The OpenAPI description of the credits endpoints (kept here so the views stay short)."""

from ai_features.serializers import (
    AlertFilterSerializer,
    AlertOutputSerializer,
    BalanceOutputSerializer,
    DailyUsageFilterSerializer,
    DailyUsageOutputSerializer,
    LedgerEntryOutputSerializer,
    PeriodFilterSerializer,
    TransactionFilterSerializer,
    TransactionOutputSerializer,
    UsageSummaryOutputSerializer,
)
from pos.openapi import (
    FIELD_ERRORS,
    PAGING,
    business_scoped,
    paginated,
)

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


BALANCE = business_scoped(
    responses={200: BalanceOutputSerializer},
    description="The spendable balance and when it expires. After expiry: 0, the past "
    "`expires_at` and `is_active: false`; a business that never had credits: 0, null, false.",
)
LEDGER = business_scoped(
    parameters=PAGING, responses={200: paginated(LedgerEntryOutputSerializer, "PaginatedLedger")}
)
TRANSACTIONS = business_scoped(
    parameters=[TransactionFilterSerializer, *PAGING],
    responses={
        200: paginated(TransactionOutputSerializer, "PaginatedTransactions"),
        400: FIELD_ERRORS,
    },
)
USAGE_SUMMARY = business_scoped(
    parameters=[PeriodFilterSerializer],
    responses={200: UsageSummaryOutputSerializer, 400: FIELD_ERRORS},
)
USAGE_DAILY = business_scoped(
    parameters=[DailyUsageFilterSerializer],
    responses={200: DailyUsageOutputSerializer(many=True), 400: FIELD_ERRORS},
    description="Credits spent and feature calls made per day, for a chart: every day of the "
    "period (default: the last 30 days; at most 366), days without use as zeros.",
)
ALERTS = business_scoped(
    parameters=[AlertFilterSerializer, *PAGING],
    responses={200: paginated(AlertOutputSerializer, "PaginatedAlerts"), 400: FIELD_ERRORS},
)
ALERT_ACKNOWLEDGE = business_scoped(request=None, responses={200: AlertOutputSerializer})
