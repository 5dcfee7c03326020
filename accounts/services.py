"""Accounts: registration, tokens, and which business a request acts for."""

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.errors import (
    BusinessNotFound,
    BusinessSelectionRequired,
    InvalidBusinessId,
    InvalidCredentials,
    NoBusiness,
)
from accounts.models import Business, BusinessMembership

BUSINESS_HEADER = "HTTP_X_BUSINESS_ID"
MAX_ID = 2**63 - 1  # ids are 64-bit; a larger number cannot name a business


@transaction.atomic
def business_register(
    *, username: str, email: str, password: str, business_name: str
) -> tuple[Token, Business]:
    """Create a user who owns a new business, and their API token."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    business = Business.objects.create(name=business_name, owner=user, email=email)
    BusinessMembership.objects.create(
        user=user, business=business, role=BusinessMembership.Role.OWNER
    )
    token = Token.objects.create(user=user)
    return token, business


def token_obtain(*, request, username: str, password: str) -> Token:
    """Return the user's API token, creating it on first login."""
    # django-axes, the first authentication backend, needs the request to see who is trying.
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user) -> None:
    """Delete the user's token, logging out every client that holds it."""
    Token.objects.filter(user=user).delete()


def business_id_from_header(header: str) -> int | None:
    """The business id an X-Business-ID header names, or None if it names none."""
    # isdigit() alone also takes "²" or "٣", which int() then refuses or reads as a number.
    if not (header.isascii() and header.isdigit()) or int(header) > MAX_ID:
        return None
    return int(header)


def business_for_request(request) -> Business:
    """The business the request acts for (section 6: one membership, or X-Business-ID)."""
    cached = getattr(request, "_acting_business", None)
    if cached is not None:
        return cached
    header = request.META.get(BUSINESS_HEADER, "").strip()
    # Found by the token authentication's one query, for this user and this header.
    found = getattr(request, "_acting_membership", None)
    if found is not None and found[:2] == (request.user.pk, header):
        request._acting_business = found[2]
        return found[2]
    memberships = BusinessMembership.objects.filter(user=request.user).select_related("business")
    if header:
        business_id = business_id_from_header(header)
        if business_id is None:
            raise InvalidBusinessId()
        membership = memberships.filter(business_id=business_id).first()
        if membership is None:
            if not memberships.exists():
                raise NoBusiness()
            raise BusinessNotFound()
    else:
        found = list(memberships[:2])
        if not found:
            raise NoBusiness()
        if len(found) > 1:
            raise BusinessSelectionRequired()
        membership = found[0]
    request._acting_business = membership.business
    return membership.business
