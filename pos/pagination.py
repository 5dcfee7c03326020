"""Pages of a list, newest first (design section 8): DRF's limit-offset shape for the SPA, with a
count that stops growing, and a cursor that walks far back at the cost of the first page.

- `count` is exact up to `COUNT_CAP`; past it, it reads `COUNT_CAP` with `count_capped: true`.
- `offset + limit` past `COUNT_CAP` is 400 `offset_too_deep`: deeper pages are read by cursor.
- Every answer carries `next_cursor` (null at the end). `?cursor=` walks on by keyset, the list's
  order fields (the last one unique), with the same shape; `next` and `previous` are then cursor
  URLs. Rows added while a walk goes on are newer than where it is, so it returns every row
  that existed when it began, once, in order.
"""

import base64
import binascii
import json
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from rest_framework import pagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from pos.errors import DomainError

COUNT_CAP = 10_000


class OffsetTooDeep(DomainError):
    code = "offset_too_deep"
    default_detail = (
        f"offset + limit may not pass {COUNT_CAP}: walk further with the `cursor` of the "
        "answer's `next_cursor`."
    )


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    default_detail = "This cursor is not one this list gave out."


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


def _capped_count(queryset: QuerySet) -> tuple[int, bool]:
    """The rows, counted no further than one past the cap."""
    found = queryset.order_by()[: COUNT_CAP + 1].count()
    return min(found, COUNT_CAP), found > COUNT_CAP


def _encode(row, keyset: tuple[str, ...], direction: str) -> str:
    values = []
    for field in keyset:
        value = getattr(row, field)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps({"d": direction, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, queryset: QuerySet, keyset: tuple[str, ...]) -> tuple[str, list]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = json.loads(raw)
        direction, values = found["d"], found["k"]
        if direction not in {"next", "previous"} or len(values) != len(keyset):
            raise ValueError("wrong shape")
        fields = [queryset.model._meta.get_field(name) for name in keyset]
        return direction, [
            field.to_python(value) for field, value in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError, KeyError, binascii.Error, ValidationError) as exc:
        raise InvalidCursor() from exc


def _after(keyset: tuple[str, ...], values: list, *, older: bool) -> Q:
    """Rows past `values` in the list's order (newest first): older ones, or newer ones."""
    lookup = "lt" if older else "gt"
    condition = Q()
    for position, field in enumerate(keyset):
        same = {name: value for name, value in zip(keyset[:position], values, strict=False)}
        condition |= Q(**same, **{f"{field}__{lookup}": values[position]})
    return condition


def _ordered(queryset: QuerySet, keyset: tuple[str, ...], *, newest_first: bool) -> QuerySet:
    return queryset.order_by(*(f"-{f}" if newest_first else f for f in keyset))


def paginated(request, queryset: QuerySet, serializer_class, *, keyset: tuple[str, ...]):
    """One page of `queryset`, newest first by `keyset` (its last field unique), as an answer."""
    paginator = LimitOffsetPagination()
    limit = paginator.get_limit(request)
    count, capped = _capped_count(queryset)
    cursor = request.query_params.get("cursor")
    if cursor is None:
        offset = paginator.get_offset(request)
        if offset + limit > COUNT_CAP:
            raise OffsetTooDeep()
        rows = list(_ordered(queryset, keyset, newest_first=True)[offset : offset + limit + 1])
        more, rows = len(rows) > limit, rows[:limit]
        url = request.build_absolute_uri()
        more_by_offset = more and offset + 2 * limit <= COUNT_CAP
        links = {
            "next": replace_query_param(url, "offset", offset + limit) if more_by_offset else None,
            "previous": _previous_offset_url(url, offset, limit),
        }
    else:
        direction, values = _decode(cursor, queryset, keyset)
        older = direction == "next"
        page = _ordered(
            queryset.filter(_after(keyset, values, older=older)), keyset, newest_first=older
        )
        rows = list(page[: limit + 1])
        beyond, rows = len(rows) > limit, rows[:limit]
        if not older:
            rows.reverse()
        # Walking on, there are newer rows (we came from them) and older ones if the query saw
        # more than a page; walking back, the other way round.
        more, newer = (beyond, bool(rows)) if older else (bool(rows), beyond)
        links = {
            "next": _cursor_url(request, rows[-1], keyset, "next") if more and rows else None,
            "previous": _cursor_url(request, rows[0], keyset, "previous") if newer else None,
        }
    data = serializer_class(rows, many=True).data
    return Response(
        {
            "count": count,
            "count_capped": capped,
            **links,
            "results": data,
            "next_cursor": _encode(rows[-1], keyset, "next") if more and rows else None,
        }
    )


def _cursor_url(request, row, keyset, direction: str) -> str:
    url = remove_query_param(request.build_absolute_uri(), "offset")
    return replace_query_param(url, "cursor", _encode(row, keyset, direction))


def _previous_offset_url(url: str, offset: int, limit: int) -> str | None:
    if offset <= 0:
        return None
    if offset - limit <= 0:
        return remove_query_param(url, "offset")
    return replace_query_param(url, "offset", offset - limit)
