"""API clients as the SPA holds them: a user's token in the Authorization header."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    """An API client authenticated with `user`'s token (made if it has none)."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def signed_post(client, path: str, raw: bytes, header: str, signer, signature="sign"):
    """POST raw JSON bytes to a webhook path: signed by `signer` into the `header` META key by
    default, with the given signature otherwise, or with none when `signature` is None."""
    headers = {}
    if signature == "sign":
        signature = signer(raw)
    if signature is not None:
        headers[header] = signature
    return client.generic("POST", path, raw, content_type="application/json", **headers)
