"""GET /ai/api/credits/transactions/ and /usage/summary/."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ai_features.models import AITransaction
from conftest import make_business, make_user, token_client

pytestmark = pytest.mark.django_db
ACCRA = ZoneInfo("Africa/Accra")
TRANSACTIONS = "/ai/api/credits/transactions/"
SUMMARY = "/ai/api/credits/usage/summary/"


def used(business, feature, credits, day, *, success=True, tokens=0, status="completed"):
    usage = AITransaction.objects.create(
        business=business,
        feature=feature,
        credits_used=Decimal(credits),
        tokens_used=tokens,
        success=success,
        status=status,
    )
    AITransaction.objects.filter(pk=usage.pk).update(
        timestamp=datetime(2026, 1, day, 12, tzinfo=ACCRA)
    )
    return usage


@pytest.fixture
def history(business):
    """Known usage: 3 descriptions (one failed), 2 insights, across January 2026."""
    return [
        used(business, "product_description", "2.50", 1, tokens=100),
        used(business, "product_description", "2.50", 5, tokens=120),
        used(business, "product_description", "0", 6, success=False, status="released"),
        used(business, "customer_insight", "2.00", 10, tokens=300),
        used(business, "customer_insight", "1.75", 31, tokens=250),
        used(make_business(), "customer_insight", "9.00", 10, tokens=999),  # someone else's
    ]


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_transactions_are_the_business_own_newest_first(api, history):
    response = api.get(TRANSACTIONS)

    assert response.status_code == 200
    assert ids(response) == [h.id for h in reversed(history[:5])]
    first = response.json()["results"][0]
    assert first == {
        "id": history[4].id,
        "feature": "customer_insight",
        "status": "completed",
        "success": True,
        "credits_used": 1.75,
        "credits_held": 0,
        "tokens_used": 250,
        "processing_time_ms": None,
        "error_message": "",
        "timestamp": "2026-01-31T12:00:00Z",
    }


def test_transactions_filter_by_feature_success_and_dates(api, history):
    by_feature = api.get(TRANSACTIONS, {"feature": "customer_insight"})
    failed = api.get(TRANSACTIONS, {"success": "false"})
    succeeded = api.get(TRANSACTIONS, {"success": "true"})
    in_range = api.get(TRANSACTIONS, {"from": "2026-01-05", "to": "2026-01-10"})
    by_moment = api.get(TRANSACTIONS, {"from": "2026-01-05T13:00:00Z"})

    assert ids(by_feature) == [history[4].id, history[3].id]
    assert ids(failed) == [history[2].id]
    assert len(ids(succeeded)) == 4
    assert ids(in_range) == [history[3].id, history[2].id, history[1].id]
    assert ids(by_moment) == [history[4].id, history[3].id, history[2].id]


def test_transactions_page_with_limit_and_offset(api, history):
    page = api.get(TRANSACTIONS, {"limit": 2, "offset": 2}).json()

    assert page["count"] == 5
    assert [r["id"] for r in page["results"]] == [history[2].id, history[1].id]
    assert "offset=4" in page["next"] and page["previous"] is not None


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2026-13-01"},
        {"success": "maybe"},
        {"from": "2026-02-01", "to": "2026-01-01"},
    ],
)
def test_bad_filters_are_400_field_errors(api, params):
    response = api.get(TRANSACTIONS, params)

    assert response.status_code == 400
    assert set(response.json()) & {"from", "to", "success"}


def test_summary_adds_up_known_usage_per_feature(api, history):
    response = api.get(SUMMARY, {"from": "2026-01-01", "to": "2026-01-31"})

    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-01-01",
        "to": "2026-01-31",
        "features": [
            {
                "feature": "customer_insight",
                "requests": 2,
                "successes": 2,
                "credits_used": 3.75,
                "tokens_used": 550,
            },
            {
                "feature": "product_description",
                "requests": 3,
                "successes": 2,
                "credits_used": 5.0,
                "tokens_used": 220,
            },
        ],
        "totals": {"requests": 5, "successes": 4, "credits_used": 8.75, "tokens_used": 770},
    }


def test_summary_respects_the_period(api, history):
    body = api.get(SUMMARY, {"from": "2026-01-06", "to": "2026-01-10"}).json()

    assert body["totals"] == {
        "requests": 2,
        "successes": 1,
        "credits_used": 2.0,
        "tokens_used": 300,
    }


def test_summary_without_usage_is_all_zero(api):
    body = api.get(SUMMARY).json()

    assert body == {
        "from": None,
        "to": None,
        "features": [],
        "totals": {"requests": 0, "successes": 0, "credits_used": 0, "tokens_used": 0},
    }


def test_usage_is_scoped_to_the_business(history):
    stranger = make_user()
    make_business(owner=stranger)

    client = token_client(stranger)

    assert client.get(TRANSACTIONS).json()["count"] == 0
    assert client.get(SUMMARY).json()["totals"]["requests"] == 0


def test_the_last_representable_day_means_no_upper_bound(api, history):
    # Regression: to=9999-12-31 overflowed computing the day after, answering 500.
    assert api.get(TRANSACTIONS, {"to": "9999-12-31"}).json()["count"] == 5
    assert api.get(SUMMARY, {"to": "9999-12-31"}).status_code == 200


def test_success_true_leaves_out_holds_still_pending(api, business, history):
    pending = used(business, "customer_insight", "0", 20, status="pending")

    succeeded = ids(api.get(TRANSACTIONS, {"success": "true"}))

    assert pending.id not in succeeded and len(succeeded) == 4


def test_a_from_date_after_a_to_moment_is_refused(api):
    response = api.get(TRANSACTIONS, {"from": "2026-01-02", "to": "2026-01-01T10:00:00Z"})

    assert response.status_code == 400 and "to" in response.json()


def test_a_to_date_includes_its_last_second_and_not_the_next_day(api, business):
    last_second = used(business, "customer_insight", "1", 30)
    next_day = used(business, "customer_insight", "1", 31)
    AITransaction.objects.filter(pk=last_second.pk).update(
        timestamp=datetime(2026, 1, 30, 23, 59, 59, tzinfo=ACCRA)
    )
    AITransaction.objects.filter(pk=next_day.pk).update(
        timestamp=datetime(2026, 1, 31, 0, 0, 0, tzinfo=ACCRA)
    )

    found = ids(api.get(TRANSACTIONS, {"to": "2026-01-30", "from": "2026-01-30"}))

    assert found == [last_second.id]


DAILY = "/ai/api/credits/usage/daily/"


def test_daily_usage_gives_every_day_of_the_period_with_zeros(api, history):
    response = api.get(DAILY, {"from": "2026-01-04", "to": "2026-01-10"})

    assert response.status_code == 200
    assert response.json() == [
        {"date": "2026-01-04", "credits": 0.0, "requests": 0},
        {"date": "2026-01-05", "credits": 2.5, "requests": 1},
        {"date": "2026-01-06", "credits": 0.0, "requests": 1},  # a failed call costs nothing
        {"date": "2026-01-07", "credits": 0.0, "requests": 0},
        {"date": "2026-01-08", "credits": 0.0, "requests": 0},
        {"date": "2026-01-09", "credits": 0.0, "requests": 0},
        {"date": "2026-01-10", "credits": 2.0, "requests": 1},
    ]


def test_daily_usage_defaults_to_the_last_30_days_ending_today(api, business):
    from django.utils import timezone

    today = timezone.localdate()
    AITransaction.objects.create(
        business=business, feature="customer_insight", credits_used=Decimal("2.00")
    )

    days = api.get(DAILY).json()

    assert len(days) == 30
    assert days[-1] == {"date": today.isoformat(), "credits": 2.0, "requests": 1}
    assert sum(day["requests"] for day in days) == 1


def test_daily_usage_from_alone_spans_30_days_and_to_alone_ends_there(api, history):
    assert len(api.get(DAILY, {"from": "2026-01-01"}).json()) == 30
    ending = api.get(DAILY, {"to": "2026-01-10"}).json()
    assert (ending[0]["date"], ending[-1]["date"]) == ("2025-12-12", "2026-01-10")


def test_daily_usage_is_per_business(history, client_for):
    stranger = make_user()
    make_business(owner=stranger)

    days = client_for(stranger).get(DAILY, {"from": "2026-01-01", "to": "2026-01-31"}).json()

    assert {day["requests"] for day in days} == {0}


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-01-10", "to": "2026-01-09"},
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days; 366 is the most
        {"from": "yesterday"},
        {"to": "2026-01-01T10:00:00"},  # whole days only
    ],
)
def test_bad_daily_periods_are_400(api, business, query):
    response = api.get(DAILY, query)

    assert response.status_code == 400


def test_the_extreme_dates_do_not_overflow(api, business):
    assert api.get(DAILY, {"to": "0001-01-05"}).status_code == 200
    assert len(api.get(DAILY, {"from": "2025-01-01", "to": "2026-01-01"}).json()) == 366
    # From alone never runs past today; a future day is just that day.
    assert len(api.get(DAILY, {"from": "9999-12-30"}).json()) == 1
