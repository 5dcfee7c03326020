"""The OpenAPI description of the credits endpoints (kept here so the views stay short)."""

from drf_spectacular.utils import PolymorphicProxySerializer

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
    description="The usage log, newest first: each feature call with the `user` who made it "
    "(null once that user is deleted), filtered by feature, outcome, period and user.",
)
USAGE_SUMMARY = business_scoped(
    parameters=[UsageSummaryFilterSerializer],
    responses={
        200: PolymorphicProxySerializer(
            component_name="UsageSummary",
            serializers=[UsageSummaryOutputSerializer, UsageSummaryByUserOutputSerializer],
            resource_type_field_name=None,
        ),
        400: FIELD_ERRORS,
    },
    description="Requests, successes, credits used and tokens over the period: one row per "
    "feature (`features`, the default) or, with `by=user`, per user who made the calls "
    "(`users`; a deleted user's calls are one row with `user: null`), and their totals.",
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
