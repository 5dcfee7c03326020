"""The client's address as the API's throttles read it, for the admin login's lockout
(django-axes) and the payment logs. The throttles themselves count in the database, so they
live with their counter (`accounts.throttling`): pos imports no app."""

import ipaddress

from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str | None:
    """The client's address exactly as the throttles read it (NUM_PROXIES: the socket's, or the
    one the Nth proxy put in X-Forwarded-For); the socket's when that is no address at all."""
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR")
