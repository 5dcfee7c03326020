"""Rate limits: how every throttle of the API counts (`CountedInDatabase`, on the counter in
`accounts.rate_limits`), and those of the accounts endpoints (THROTTLE_RATE_AUTH); answered 429
with Retry-After."""

from rest_framework.throttling import AnonRateThrottle

from accounts.rate_limits import rate_limit_hit


class CountedInDatabase:
    """Put before one of DRF's rate throttles: its key and rate, counted by one statement on the
    database (`rate_limit_hit`) in a window that begins with the key's first request.

    DRF's own throttles read a list of timestamps from the cache and write it back: two
    requests at once can both take the last slot, and with the database cache each request
    costs five statements (read, count the table, then select and update in a transaction)."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        hits, window_start = rate_limit_hit(key=self.key, now=self.now, duration=self.duration)
        self.window_end = window_start + self.duration
        return hits <= self.num_requests

    def wait(self) -> float:
        """Seconds until the full window ends and the key may be counted afresh."""
        return max(self.window_end - self.now, 0.0)


class LoginThrottle(CountedInDatabase, AnonRateThrottle):
    """Per client IP: slows password guessing."""

    scope = "login"


class RegisterThrottle(CountedInDatabase, AnonRateThrottle):
    """Per client IP, counted apart from logins: slows sign-up floods."""

    scope = "register"
