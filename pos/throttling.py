"""Rate limits (settings: THROTTLE_RATE_PURCHASE, _VERIFY, _AUTH); answered 429 with Retry-After."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class PurchaseThrottle(UserRateThrottle):
    scope = "purchase"


class VerifyThrottle(UserRateThrottle):
    """Each verify of a pending purchase calls Paystack, whose own limit is shared by everyone."""

    scope = "verify"


class LoginThrottle(AnonRateThrottle):
    """Per client IP: slows password guessing."""

    scope = "login"


class RegisterThrottle(AnonRateThrottle):
    """Per client IP, counted apart from logins: slows sign-up floods."""

    scope = "register"
