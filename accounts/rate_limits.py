"""Rate limit counters in the database: one statement counts a request and says whether its
window is full. The API's throttles (`accounts.throttling`) count here."""

import hashlib

from django.db import connection

from accounts.models import RateLimitWindow

# Every `CULL_EVERY` hits a process clears the windows that ended long ago; there is no cron.
CULL_EVERY = 1000
CULL_AFTER_SECONDS = 24 * 3600

_TABLE = RateLimitWindow._meta.db_table
KEY_LENGTH = RateLimitWindow._meta.get_field("key").max_length
# Insert the key's first window, or count one more in its current window, or, once `duration`
# has passed since that window began, start a fresh one at `now`. One statement: the row lock
# ON CONFLICT takes serialises racing requests, so none of their counts is lost. (SET reads the
# row as it was, so both CASEs test the old window.)
_HIT = (
    f"INSERT INTO {_TABLE} (key, window_start, hits) VALUES (%s, %s, 1) "  # noqa: S608
    "ON CONFLICT (key) DO UPDATE SET "
    f"hits = CASE WHEN {_TABLE}.window_start > %s THEN {_TABLE}.hits + 1 ELSE 1 END, "
    f"window_start = CASE WHEN {_TABLE}.window_start > %s "
    f"THEN {_TABLE}.window_start ELSE EXCLUDED.window_start END "
    "RETURNING hits, window_start"
)
_hits_since_cull = 0


def rate_limit_hit(*, key: str, now: float, duration: float) -> tuple[int, float]:
    """Count one request for `key`: how many its window has counted, this one included, and
    when that window began."""
    global _hits_since_cull
    _hits_since_cull += 1
    if _hits_since_cull >= CULL_EVERY:
        _hits_since_cull = 0
        rate_limits_cull(before=now - CULL_AFTER_SECONDS)
    if len(key) > KEY_LENGTH:  # an ident from a header can be any length
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    expired_before = now - duration
    with connection.cursor() as cursor:
        cursor.execute(_HIT, [key, now, expired_before, expired_before])
        hits, window_start = cursor.fetchone()
    return hits, window_start


def rate_limits_cull(*, before: float) -> int:
    """Forget the windows that began before `before` (epoch seconds); how many were dropped."""
    return RateLimitWindow.objects.filter(window_start__lt=before).delete()[0]
