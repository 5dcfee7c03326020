"""Paystack disputes in the sandbox: opened on a paid transaction by a sandbox-only call,
resolved by Paystack's own `PUT /dispute/:id/resolve`, each followed by its signed webhook in
the shape shared/paystack/README.md gives a Dispute."""

import json

import pytest

from sandbox.paystack.models import SandboxDispute
from sandbox.paystack.tests.helpers import (
    API,
    NOT_FOUND,
    checkout_path,
    initialize,
    post_json,
    webhook_calls,
    webhook_delivery,
)

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

README_FIELDS = {
    "id",
    "refund_amount",
    "currency",
    "status",
    "resolution",
    "transaction",
    "category",
    "merchant_bears_loss",
    "due_at",
    "resolved_at",
    "created_at",
}


def open_dispute(client, body):
    return post_json(client, f"{API}/test_helpers/disputes", body)


def resolve(client, dispute_id, body):
    path = f"{API}/dispute/{dispute_id}/resolve"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("PUT", path, raw, content_type="application/json")


def sent(hooks) -> list[dict]:
    return [webhook_delivery(call)[1] for call in webhook_calls(hooks)]


def test_a_dispute_opens_then_resolves_with_a_signed_webhook_each(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        opened = open_dispute(paystack_client, {"transaction": txn.reference})
        assert webhook_calls(hooks) == []  # nothing leaves before the dispute commits

    assert opened.status_code == 200, opened.content
    body = opened.json()
    assert (body["status"], body["message"]) == (True, "Dispute created")
    dispute = SandboxDispute.objects.get()
    assert set(body["data"]) >= README_FIELDS
    assert body["data"]["id"] == dispute.pk
    assert body["data"]["status"] == "awaiting-merchant-feedback"
    assert body["data"]["resolution"] is None and body["data"]["refund_amount"] is None
    assert body["data"]["transaction"]["reference"] == txn.reference
    assert (body["data"]["currency"], body["data"]["category"]) == ("GHS", "chargeback")
    [created] = sent(hooks)
    assert created == {"event": "charge.dispute.create", "data": body["data"]}

    with django_capture_on_commit_callbacks(execute=True):
        resolved = resolve(paystack_client, dispute.pk, {"resolution": "declined", "message": "ok"})

    assert resolved.status_code == 200, resolved.content
    data = resolved.json()["data"]
    assert (data["status"], data["resolution"]) == ("resolved", "declined")
    assert data["resolved_at"] is not None and data["note"] == "ok"
    [_, resolve_event] = sent(hooks)
    assert resolve_event == {"event": "charge.dispute.resolve", "data": data}
    fetched = paystack_client.get(f"{API}/dispute/{dispute.pk}")
    assert fetched.status_code == 200 and fetched.json()["data"] == data


def test_a_dispute_names_its_transaction_by_id_and_an_amount(paystack_client, hooks, txn):
    opened = open_dispute(
        paystack_client, {"transaction": txn.pk, "refund_amount": 4000, "category": "fraud"}
    )

    assert opened.status_code == 200, opened.content
    data = opened.json()["data"]
    assert (data["refund_amount"], data["category"]) == (4000, "fraud")


def test_merchant_accepted_is_a_resolution_too(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        opened = open_dispute(paystack_client, {"transaction": txn.reference})
        resolved = resolve(
            paystack_client, opened.json()["data"]["id"], {"resolution": "merchant-accepted"}
        )

    assert resolved.json()["data"]["resolution"] == "merchant-accepted"
    assert [event["event"] for event in sent(hooks)] == [
        "charge.dispute.create",
        "charge.dispute.resolve",
    ]


def test_one_open_dispute_at_a_time_and_a_resolved_one_stays_resolved(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    dispute_id = open_dispute(paystack_client, {"transaction": txn.reference}).json()["data"]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        second = open_dispute(paystack_client, {"transaction": txn.reference})
        resolve(paystack_client, dispute_id, {"resolution": "declined"})
        again = resolve(paystack_client, dispute_id, {"resolution": "merchant-accepted"})
        later = open_dispute(paystack_client, {"transaction": txn.reference})

    assert second.status_code == 400
    assert second.json() == {"status": False, "message": "Transaction already has an open dispute"}
    assert again.status_code == 400
    assert again.json() == {"status": False, "message": "Dispute has already been resolved"}
    assert SandboxDispute.objects.get(pk=dispute_id).resolution == "declined"
    assert later.status_code == 200  # a new one, once the first is resolved
    assert [event["event"] for event in sent(hooks)] == [
        "charge.dispute.resolve",
        "charge.dispute.create",
    ]


@pytest.mark.parametrize("action", [None, "decline", "cancel"])
def test_only_a_paid_transaction_can_be_disputed(paystack_client, hooks, action):
    data = initialize(paystack_client)
    if action:
        paystack_client.post(checkout_path(data["access_code"]), {"action": action})

    response = open_dispute(paystack_client, {"transaction": data["reference"]})

    assert response.status_code == 400
    assert response.json() == {"status": False, "message": "Transaction has not been paid"}
    assert SandboxDispute.objects.count() == 0
    assert webhook_calls(hooks) == []


def test_an_unknown_transaction_or_dispute_is_not_found(paystack_client, hooks):
    assert open_dispute(paystack_client, {"transaction": "NOPE-1"}).json() == NOT_FOUND
    missing = resolve(paystack_client, 4242, {"resolution": "declined"})
    assert missing.status_code == 404
    assert missing.json() == {"status": False, "message": "Dispute not found"}
    assert paystack_client.get(f"{API}/dispute/4242").status_code == 404
    huge = resolve(paystack_client, 10**30, {"resolution": "declined"})
    assert huge.status_code == 404


@pytest.mark.parametrize(
    "body",
    [[], {}, {"transaction": ""}, {"transaction": "REF", "refund_amount": "100"}]
    + [{"transaction": "REF", "refund_amount": bad} for bad in (0, -1, True, 1.5)]
    + [{"transaction": "REF", "category": bad} for bad in ("other", None, 1)],
    ids=repr,
)
def test_opening_rejects_invalid_params(paystack_client, txn, body):
    body = {k: txn.reference if v == "REF" else v for k, v in body.items()} if body else body

    response = open_dispute(paystack_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"
    assert SandboxDispute.objects.count() == 0


def test_a_disputed_amount_above_the_payment_is_refused(paystack_client, txn):
    response = open_dispute(paystack_client, {"transaction": txn.reference, "refund_amount": 9401})

    assert response.status_code == 400
    assert "9400" in response.json()["message"]


@pytest.mark.parametrize(
    "body",
    [[], {}, {"resolution": "won"}, {"resolution": None}, {"resolution": "declined", "message": 5}],
    ids=repr,
)
def test_resolving_rejects_invalid_params(paystack_client, hooks, txn, body):
    dispute_id = open_dispute(paystack_client, {"transaction": txn.reference}).json()["data"]["id"]

    response = resolve(paystack_client, dispute_id, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"
    assert SandboxDispute.objects.get().status == "awaiting-merchant-feedback"


def test_the_dispute_calls_need_the_key_the_method_and_the_sandbox(
    paystack_client, hooks, txn, settings
):
    from django.test import Client

    dispute_id = open_dispute(paystack_client, {"transaction": txn.reference}).json()["data"]["id"]
    keyless = Client()

    assert open_dispute(keyless, {"transaction": txn.reference}).status_code == 401
    assert resolve(keyless, dispute_id, {"resolution": "declined"}).status_code == 401
    assert paystack_client.get(f"{API}/test_helpers/disputes").status_code == 405
    wrong = post_json(paystack_client, f"{API}/dispute/{dispute_id}/resolve", {})
    assert wrong.status_code == 405
    settings.SANDBOX = False
    assert open_dispute(paystack_client, {"transaction": txn.reference}).status_code == 404
    assert resolve(paystack_client, dispute_id, {"resolution": "declined"}).status_code == 404
