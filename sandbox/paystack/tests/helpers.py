"""Helpers for the sandbox's tests."""

import json

from ai_features.payments.gateways.paystack import PaystackService

SECRET = "sk_test_sandbox"
HOOK_URL = "http://hooks.test/ai/api/webhooks/paystack/"
API = "/sandbox/paystack"
NOT_FOUND = {"status": False, "message": "Transaction reference not found"}


def initialize_body(**overrides) -> dict:
    """A valid initialize body; pass `field=...` (Ellipsis) to leave a field out."""
    body = {
        "email": "ama@example.com",
        "amount": 9400,
        "currency": "GHS",
        "reference": "AI-CRED-0001",
        "callback_url": "http://shop.test/payment/callback",
        "channels": ["mobile_money"],
        "metadata": {"purchase_id": 7},
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def post_json(client, path, body, **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("POST", path, raw, content_type="application/json", **extra)


def initialize(client, **overrides) -> dict:
    response = post_json(client, f"{API}/transaction/initialize", initialize_body(**overrides))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def verify(client, reference: str):
    return client.get(f"{API}/transaction/verify/{reference}")


def checkout_path(access_code: str) -> str:
    return f"{API}/checkout/{access_code}"


def webhook_calls(mock) -> list:
    return [call for call in mock.calls if call.request.url == HOOK_URL]


def webhook_delivery(call) -> tuple[bytes, dict]:
    """The exact bytes sent and their parsed JSON, after checking the signature on those bytes."""
    raw = call.request.body
    raw = raw.encode() if isinstance(raw, str) else raw
    signature = call.request.headers["x-paystack-signature"]
    assert PaystackService(secret_key=SECRET).is_valid_signature(raw, signature)
    assert call.request.headers["Content-Type"] == "application/json"
    return raw, json.loads(raw)


def paid(client, django_capture_on_commit_callbacks, **overrides):
    """A transaction initialized and paid through the checkout page."""
    from sandbox.paystack.models import SandboxTransaction

    data = initialize(client, **overrides)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(checkout_path(data["access_code"]), {"action": "pay"})
    assert response.status_code == 302
    return SandboxTransaction.objects.get(reference=data["reference"])
