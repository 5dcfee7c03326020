from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.services import business_for_request
from ai_features.models import CreditLedgerEntry, CreditPackage
from ai_features.serializers import (
    BalanceOutputSerializer,
    LedgerEntryOutputSerializer,
    PackageOutputSerializer,
)
from ai_features.services.credits import balance_get
from pos.pagination import LimitOffsetPagination


def paginated(request, queryset, serializer_class):
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


@api_view(["GET"])
def packages(request):
    active = CreditPackage.objects.filter(is_active=True).order_by("display_order", "id")
    return Response(PackageOutputSerializer(active, many=True).data)


@api_view(["GET"])
def balance(request):
    business = business_for_request(request)
    return Response(BalanceOutputSerializer(balance_get(business=business)).data)


@api_view(["GET"])
def ledger(request):
    business = business_for_request(request)
    entries = (
        CreditLedgerEntry.objects.filter(business=business)
        .select_related("purchase")
        .order_by("-created_at", "-id")
    )
    return paginated(request, entries, LedgerEntryOutputSerializer)
