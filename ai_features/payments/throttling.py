"""Rate limits of buying (THROTTLE_RATE_PURCHASE, THROTTLE_RATE_VERIFY), per user."""

from rest_framework.throttling import UserRateThrottle


class PurchaseThrottle(UserRateThrottle):
    scope = "purchase"


class VerifyThrottle(UserRateThrottle):
    """Each verify of a pending purchase calls the gateway, whose own limit is shared by all."""

    scope = "verify"
