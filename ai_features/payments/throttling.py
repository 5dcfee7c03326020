"""Rate limits of buying (THROTTLE_RATE_PURCHASE, THROTTLE_RATE_VERIFY), per user."""

from rest_framework.throttling import UserRateThrottle

from accounts.throttling import CountedInDatabase


class PurchaseThrottle(CountedInDatabase, UserRateThrottle):
    scope = "purchase"


class VerifyThrottle(CountedInDatabase, UserRateThrottle):
    """Each verify of a pending purchase calls the gateway, whose own limit is shared by all."""

    scope = "verify"
