"""GET /ai/api/credits/transactions/ and /usage/summary/."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import BusinessMembership
from ai_features.models import AITransaction
from testing.clients import token_client
from testing.credits import grant_credits
from testing.factories import BusinessFactory, UserFactory
from testing.provider import openai_json

pytestmark = pytest.mark.django_db
ACCRA = ZoneInfo("Africa/Accra")
TRANSACTIONS = "/ai/api/credits/transactions/"
SUMMARY = "/ai/api/credits/usage/summary/"


def used(business, feature, credits, day, *, success=True, tokens=0, status="completed", user=None):
    usage = AITransaction.objects.create(
        business=business,
        user=user,
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
        used(BusinessFactory(), "customer_insight", "9.00", 10, tokens=999),  # someone else's
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
        "user": None,
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
    stranger = UserFactory()
    BusinessFactory(owner=stranger)

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
    stranger = UserFactory()
    BusinessFactory(owner=stranger)

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


# Who spent the credits (issue 19, item 10).


@pytest.fixture
def staff_usage(business, user):
    """The owner's call and two by a cashier of the same shop, on 1, 2 and 3 January."""
    cashier = UserFactory(username="cashier")
    BusinessMembership.objects.create(user=cashier, business=business, role="staff")
    calls = [
        used(business, "product_description", "2.50", 1, tokens=100, user=user),
        used(business, "customer_insight", "2.00", 2, tokens=300, user=cashier),
        used(
            business, "product_description", "0", 3, success=False, status="released", user=cashier
        ),
    ]
    return user, cashier, calls


def test_each_transaction_names_the_user_who_made_it(api, staff_usage):
    owner, cashier, calls = staff_usage

    results = api.get(TRANSACTIONS).json()["results"]

    assert [row["user"] for row in results] == [
        {"id": cashier.id, "username": "cashier"},
        {"id": cashier.id, "username": "cashier"},
        {"id": owner.id, "username": owner.username},
    ]


def test_a_deleted_users_transactions_stay_with_user_null(api, staff_usage):
    _, cashier, calls = staff_usage

    cashier.delete()

    results = api.get(TRANSACTIONS).json()["results"]
    assert [row["user"] for row in results[:2]] == [None, None]
    assert [row["id"] for row in results] == [c.id for c in reversed(calls)]


def test_transactions_filter_by_user(api, staff_usage):
    owner, cashier, calls = staff_usage

    by_cashier = ids(api.get(TRANSACTIONS, {"user": cashier.id}))
    by_owner = ids(api.get(TRANSACTIONS, {"user": str(owner.id), "feature": "product_description"}))
    by_stranger = ids(api.get(TRANSACTIONS, {"user": UserFactory().id}))

    assert by_cashier == [calls[2].id, calls[1].id]
    assert by_owner == [calls[0].id]
    assert by_stranger == []


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", "1_0", "\u0661", " 1", "9" * 20])
def test_a_bad_user_id_is_a_400_field_error(api, staff_usage, bad):
    response = api.get(TRANSACTIONS, {"user": bad})

    assert response.status_code == 400
    assert list(response.json()) == ["user"] and isinstance(response.json()["user"], list)


def test_the_transactions_page_reads_its_users_in_the_same_query(api, business, user):
    """No query per row for its user: a page of 1 and a page of 20 cost the same."""
    used(business, "customer_insight", "1.00", 1, user=user)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(TRANSACTIONS).json()["results"]) == 1
    for day in range(2, 22):
        used(business, "customer_insight", "1.00", day, user=UserFactory())

    with CaptureQueriesContext(connection) as many:
        assert len(api.get(TRANSACTIONS).json()["results"]) == 20

    assert len(many) == len(one)
    page = [q["sql"] for q in many if '"ai_transactions"' in q["sql"] and "COUNT" not in q["sql"]]
    assert len(page) == 1 and "auth_user" in page[0]


def test_summary_by_user_has_one_row_per_user_with_the_feature_rows_fields(api, staff_usage):
    owner, cashier, _ = staff_usage

    response = api.get(SUMMARY, {"by": "user", "from": "2026-01-01", "to": "2026-01-31"})

    assert response.status_code == 200
    assert response.json() == {
        "from": "2026-01-01",
        "to": "2026-01-31",
        "users": [
            {
                "user": {"id": cashier.id, "username": "cashier"},
                "requests": 2,
                "successes": 1,
                "credits_used": 2.0,
                "tokens_used": 300,
            },
            {
                "user": {"id": owner.id, "username": owner.username},
                "requests": 1,
                "successes": 1,
                "credits_used": 2.5,
                "tokens_used": 100,
            },
        ],
        "totals": {"requests": 3, "successes": 2, "credits_used": 4.5, "tokens_used": 400},
    }
    by_feature = api.get(SUMMARY, {"by": "feature"}).json()
    assert set(by_feature) == {"from", "to", "features", "totals"}
    assert by_feature["totals"] == response.json()["totals"]


def test_summary_by_user_puts_deleted_users_calls_in_one_row_last(api, staff_usage, business):
    owner, cashier, _ = staff_usage
    gone = UserFactory(username="zz-gone")
    used(business, "customer_insight", "1.00", 4, user=gone)
    cashier.delete()
    gone.delete()

    rows = api.get(SUMMARY, {"by": "user"}).json()["users"]

    assert [(row["user"], row["requests"]) for row in rows] == [
        ({"id": owner.id, "username": owner.username}, 1),
        (None, 3),
    ]


def test_summary_by_something_else_is_a_400_field_error(api):
    response = api.get(SUMMARY, {"by": "business"})

    assert response.status_code == 400 and "by" in response.json()


def test_what_a_call_cost_us_is_in_no_answer_the_shop_reads(api, business, user, llm):
    """`cost_to_us` is the operator's cost, not the shop's."""
    grant_credits(business, 10)
    llm.then(openai_json("chat_completion.success.json"))
    called = api.post(
        "/ai/api/features/product-description/", {"product_name": "Kente scarf"}, format="json"
    )
    assert called.status_code == 200
    AITransaction.objects.update(cost_to_us=Decimal("0.123457"))

    answers = [called] + [
        api.get(path, query)
        for path, query in [
            (TRANSACTIONS, {}),
            (SUMMARY, {}),
            (SUMMARY, {"by": "user"}),
            (DAILY, {}),
            ("/ai/api/credits/ledger/", {}),
            ("/ai/api/credits/balance/", {}),
            ("/ai/api/features/", {}),
        ]
    ]

    for answer in answers:
        assert answer.status_code == 200, answer.request["PATH_INFO"]
        text = answer.content.decode()
        assert "cost_to_us" not in text and "0.123457" not in text and "0.000009" not in text
