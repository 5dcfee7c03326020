"""Rate limits of the accounts endpoints (THROTTLE_RATE_AUTH); answered 429 with Retry-After.
Also the client's address for the admin login's lockout (django-axes), read the same way."""

import ipaddress

from rest_framework.throttling import AnonRateThrottle, BaseThrottle


def client_ip(request) -> str | None:
    """The client's address exactly as the throttles read it (NUM_PROXIES: the socket's, or the
    one the Nth proxy put in X-Forwarded-For); the socket's when that is no address at all."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


class LoginThrottle(AnonRateThrottle):
    """Per client IP: slows password guessing."""

    scope = "login"


class RegisterThrottle(AnonRateThrottle):
    """Per client IP, counted apart from logins: slows sign-up floods."""

    scope = "register"
