"""Token authentication that also answers, in the same query, which business the request acts
for, so `business_for_request` needs no query of its own on the common path."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import Business, BusinessMembership
from accounts.services import BUSINESS_HEADER, business_id_from_header


class TokenBusinessAuthentication(TokenAuthentication):
    """DRF's `TokenAuthentication` (same header, same answers), in one query: the token's user
    with their membership of the acting business (the X-Business-ID one, or the only one).

    When that query finds the membership, the business is kept on the request for
    `business_for_request`. Otherwise (a user with no membership, several without the header,
    a header naming a business they are not in, or an unknown token) it falls back to DRF's own
    token query, and `business_for_request` decides the 400/403/404 as before."""

    def authenticate(self, request):
        self._request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        request = getattr(self, "_request", None)
        if request is None:
            return super().authenticate_credentials(key)
        header = request.META.get(BUSINESS_HEADER, "").strip()
        wanted = business_id_from_header(header) if header else None
        if header and wanted is None:  # business_for_request answers the malformed header
            return super().authenticate_credentials(key)
        found = _token_memberships(key, wanted)
        if len(found) != 1:
            return super().authenticate_credentials(key)
        token, business = found[0]
        if not token.user.is_active:
            return super().authenticate_credentials(key)  # raises as DRF does
        # Kept with the user and header it was found for, on the underlying HttpRequest.
        request._request._acting_membership = (token.user.pk, header, business)
        return token.user, token


def _token_memberships(key: str, business_id: int | None) -> list[tuple[Token, Business]]:
    """The token (with its user) and the business of each membership found: the one named by
    `business_id`, or up to two when none is named (two is enough to know there are several)."""
    memberships = BusinessMembership.objects.select_related("user__auth_token", "business").filter(
        user__auth_token__key=key
    )
    if business_id is not None:
        memberships = memberships.filter(business_id=business_id)
    return [
        (membership.user.auth_token, membership.business)
        for membership in memberships[: 1 if business_id is not None else 2]
    ]
