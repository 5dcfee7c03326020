"""Pages of the lists (design section 8): a count that stops at 10,000, offsets no deeper than
that, and a cursor that walks on by keyset, the same rows once each, while rows are added."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from ai_features.models import AITransaction, CreditLedgerEntry
from pos.pagination import COUNT_CAP

pytestmark = pytest.mark.django_db
TRANSACTIONS = "/ai/api/credits/transactions/"
LEDGER = "/ai/api/credits/ledger/"


def usage_rows(business, count: int, *, start=None) -> list[int]:
    """`count` usage rows a second apart (the newest last), with their ids, oldest first."""
    start = start or timezone.now() - timedelta(days=1)
    rows = AITransaction.objects.bulk_create(
        AITransaction(business=business, feature="product_description", credits_used=1)
        for _ in range(count)
    )
    for index, row in enumerate(rows):  # auto_now_add stamped them all alike
        row.timestamp = start + timedelta(seconds=index)
    AITransaction.objects.bulk_update(rows, ["timestamp"], batch_size=2000)
    return [row.pk for row in rows]


def ids(answer) -> list[int]:
    return [item["id"] for item in answer["results"]]


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_a_short_list_counts_exactly_and_says_so(api, business):
    made = usage_rows(business, 3)

    answer = api.get(TRANSACTIONS).json()

    assert (answer["count"], answer["count_capped"]) == (3, False)
    assert ids(answer) == made[::-1] and answer["next"] is None and answer["next_cursor"] is None


def test_past_ten_thousand_the_count_is_capped(api, business):
    usage_rows(business, COUNT_CAP + 5)

    answer = api.get(TRANSACTIONS, {"limit": 5}).json()

    assert (answer["count"], answer["count_capped"]) == (COUNT_CAP, True)
    assert len(answer["results"]) == 5 and answer["next_cursor"]


def test_exactly_ten_thousand_is_not_capped(api, business):
    usage_rows(business, COUNT_CAP)

    answer = api.get(TRANSACTIONS, {"limit": 1}).json()

    assert (answer["count"], answer["count_capped"]) == (COUNT_CAP, False)


@pytest.mark.parametrize(("offset", "limit"), [(9_990, 11), (10_000, 1), (2**40, 5)])
def test_an_offset_past_ten_thousand_is_refused_naming_the_cursor(api, business, offset, limit):
    response = api.get(TRANSACTIONS, {"offset": offset, "limit": limit})

    assert response.status_code == 400
    assert response.json()["code"] == "offset_too_deep" and "cursor" in response.json()["detail"]


def test_the_last_offset_page_is_allowed(api, business):
    usage_rows(business, 3)

    response = api.get(TRANSACTIONS, {"offset": 9_990, "limit": 10})

    assert response.status_code == 200 and response.json()["results"] == []


def test_a_cursor_walk_returns_every_row_once_in_order_while_rows_are_added(api, business):
    existing = usage_rows(business, 47)
    seen = []
    answer = api.get(TRANSACTIONS, {"limit": 10}).json()
    seen += ids(answer)
    while answer["next_cursor"]:
        usage_rows(business, 3, start=timezone.now())  # newer than anything being walked
        answer = api.get(TRANSACTIONS, {"limit": 10, "cursor": answer["next_cursor"]}).json()
        assert set(answer) == {
            "count",
            "count_capped",
            "next",
            "previous",
            "results",
            "next_cursor",
        }
        seen += ids(answer)

    assert seen == existing[::-1]


def test_rows_with_the_same_timestamp_are_walked_by_id(api, business):
    made = usage_rows(business, 12)
    AITransaction.objects.update(timestamp=timezone.now())

    seen, cursor = [], None
    while True:
        answer = api.get(TRANSACTIONS, {"limit": 5, **({"cursor": cursor} if cursor else {})})
        seen += ids(answer.json())
        cursor = answer.json()["next_cursor"]
        if not cursor:
            break

    assert seen == sorted(made, reverse=True)


def test_next_and_previous_links_walk_both_ways(api, business):
    made = usage_rows(business, 25)[::-1]  # newest first
    first = api.get(TRANSACTIONS, {"limit": 10}).json()
    second = api.get(TRANSACTIONS, {"limit": 10, "cursor": first["next_cursor"]}).json()
    third = api.get(TRANSACTIONS, {"limit": 10, "cursor": cursor_of(second["next"])}).json()
    assert (ids(second), ids(third)) == (made[10:20], made[20:])
    assert third["next"] is None and third["next_cursor"] is None

    back = api.get(TRANSACTIONS, {"limit": 10, "cursor": cursor_of(third["previous"])}).json()
    assert ids(back) == made[10:20]
    start = api.get(TRANSACTIONS, {"limit": 10, "cursor": cursor_of(back["previous"])}).json()
    assert ids(start) == made[:10] and start["previous"] is None


def test_the_filters_hold_on_cursor_pages(api, business):
    usage_rows(business, 8)
    AITransaction.objects.filter(pk__in=AITransaction.objects.order_by("id")[:4]).update(
        feature="customer_insight"
    )
    first = api.get(TRANSACTIONS, {"limit": 2, "feature": "customer_insight"}).json()
    rest = api.get(
        TRANSACTIONS, {"limit": 2, "feature": "customer_insight", "cursor": first["next_cursor"]}
    ).json()

    features = {AITransaction.objects.get(pk=pk).feature for pk in ids(first) + ids(rest)}
    assert features == {"customer_insight"} and first["count"] == 4


@pytest.mark.parametrize(
    "cursor", ["nonsense", "eyJkIjoibmV4dCJ9", "eyJkIjoibmV4dCIsImsiOlsieCIsMV19"]
)
def test_a_cursor_we_did_not_give_out_is_refused(api, business, cursor):
    response = api.get(TRANSACTIONS, {"cursor": cursor})

    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"


def test_the_ledger_walks_by_id(api, business):
    from ai_features.credits.credits import credits_add

    for _ in range(7):
        credits_add(business=business, amount="1", kind="grant")
    made = list(CreditLedgerEntry.objects.order_by("-id").values_list("id", flat=True))
    CreditLedgerEntry.objects.filter(pk=made[-1]).update(created_at=timezone.now())  # stamped late

    first = api.get(LEDGER, {"limit": 4}).json()
    rest = api.get(LEDGER, {"limit": 4, "cursor": first["next_cursor"]}).json()

    assert ids(first) + ids(rest) == made
