from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 20
    max_limit = 100
    # Past any real row count, and small enough for every database's OFFSET.
    max_offset = 2**31 - 1

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)


def paginated(request, queryset, serializer_class):
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
