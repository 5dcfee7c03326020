"""Rate limit windows counted by one statement on the database (accounts.rate_limits)."""

import pytest
from django.db import connection

from accounts import rate_limits
from accounts.models import RateLimitWindow
from accounts.rate_limits import rate_limit_hit, rate_limits_cull
from testing.races import results_in_threads

pytestmark = pytest.mark.django_db


def test_the_first_hit_opens_a_window_and_later_hits_count_in_it():
    assert rate_limit_hit(key="k", now=1000.0, duration=60) == (1, 1000.0)
    assert rate_limit_hit(key="k", now=1010.0, duration=60) == (2, 1000.0)
    assert rate_limit_hit(key="k", now=1059.9, duration=60) == (3, 1000.0)


def test_a_hit_once_the_window_has_passed_opens_a_fresh_one():
    rate_limit_hit(key="k", now=1000.0, duration=60)
    rate_limit_hit(key="k", now=1001.0, duration=60)

    assert rate_limit_hit(key="k", now=1060.0, duration=60) == (1, 1060.0)
    assert rate_limit_hit(key="k", now=1061.0, duration=60) == (2, 1060.0)


def test_keys_count_apart():
    rate_limit_hit(key="a", now=1000.0, duration=60)

    assert rate_limit_hit(key="b", now=1000.0, duration=60) == (1, 1000.0)
    assert RateLimitWindow.objects.get(key="a").hits == 1


def test_a_key_too_long_for_its_column_is_counted_by_its_digest():
    long_key = "throttle_login_" + "x" * 400

    assert rate_limit_hit(key=long_key, now=1000.0, duration=60) == (1, 1000.0)
    assert rate_limit_hit(key=long_key, now=1001.0, duration=60) == (2, 1000.0)
    (stored,) = RateLimitWindow.objects.values_list("key", flat=True)
    assert stored.startswith("sha256:") and len(stored) <= 255


def test_every_thousandth_hit_forgets_windows_that_began_a_day_before(monkeypatch):
    monkeypatch.setattr(rate_limits, "_hits_since_cull", 0)
    day = rate_limits.CULL_AFTER_SECONDS
    RateLimitWindow.objects.create(key="old", window_start=1000.0, hits=3)
    RateLimitWindow.objects.create(key="recent", window_start=1000.0 + day, hits=3)

    for _ in range(rate_limits.CULL_EVERY - 1):
        rate_limit_hit(key="k", now=1001.0 + day, duration=60)
    assert RateLimitWindow.objects.filter(key="old").exists()

    rate_limit_hit(key="k", now=1001.0 + day, duration=60)

    assert set(RateLimitWindow.objects.values_list("key", flat=True)) == {"recent", "k"}


def test_cull_answers_how_many_it_dropped():
    RateLimitWindow.objects.create(key="a", window_start=10.0, hits=1)
    RateLimitWindow.objects.create(key="b", window_start=30.0, hits=1)

    assert rate_limits_cull(before=20.0) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_hits_are_all_counted():
    def hit(index):
        return rate_limit_hit(key="race", now=1000.0 + index / 100, duration=60)[0]

    counts = results_in_threads(20, hit)

    assert sorted(counts) == list(range(1, 21))
    assert RateLimitWindow.objects.get(key="race").hits == 20


@pytest.mark.postgres
def test_the_windows_are_not_written_to_the_wal():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s",
            [RateLimitWindow._meta.db_table],
        )
        assert cursor.fetchone() == ("u",)  # unlogged: its commits wait for no disk flush
