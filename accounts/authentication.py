"""Token authentication that also answers, in the same query, which business the request acts
for, so `business_for_request` needs no query of its own on the common path."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import Business, BusinessMembership
from accounts.services import BUSINESS_HEADER, business_id_from_header
from pos.prepared import execute_prepared


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
        if request is None or connection.vendor != "postgresql":  # SQLite: DRF's own way
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


_MODELS = (Token, None, BusinessMembership, Business)  # None: the user model, once apps load


@functools.cache
def _query() -> tuple[str, list]:
    """One statement, written once: the token, its user, and the user's memberships with their
    businesses; each model's columns in its own order, so `Model.from_db` builds the rows as the
    ORM would. Only for fields that need no conversion from the database, as all of these are
    on PostgreSQL."""
    models = [get_user_model() if model is None else model for model in _MODELS]
    columns, spans = [], []
    for alias, model in zip("tumb", models, strict=True):
        fields = model._meta.concrete_fields
        for field in fields:
            col = field.get_col(alias)
            if field.get_db_converters(connection) or connection.ops.get_db_converters(col):
                raise TypeError(f"{field} needs converting; use the ORM")
        spans.append((model, len(columns), len(columns) + len(fields)))
        columns += [f'{alias}."{field.column}"' for field in fields]
    user = models[1]._meta
    # Names from the models only; the key and the id are parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {Token._meta.db_table} t "  # noqa: S608
        f'JOIN "{user.db_table}" u ON u."{user.pk.column}" = t.user_id '
        f"JOIN {BusinessMembership._meta.db_table} m ON m.user_id = t.user_id "
        f"JOIN {Business._meta.db_table} b ON b.id = m.business_id "
        "WHERE t.key = %s"
    )
    return sql, spans


def _token_memberships(key: str, business_id: int | None) -> list[tuple[Token, Business]]:
    """The token (with its user) and the business of each membership found: the one named by
    `business_id`, or up to two when none is named (two is enough to know there are several)."""
    sql, spans = _query()
    params = [key]
    if business_id is None:
        sql += " LIMIT 2"
    else:
        sql += " AND m.business_id = %s LIMIT 1"
        params.append(business_id)
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        token, user, membership, business = (
            model.from_db(connection.alias, None, row[start:end]) for model, start, end in spans
        )
        token.user = membership.user = user
        membership.business = business
        found.append((token, business))
    return found
