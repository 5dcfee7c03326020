"""The sandbox's `POST /refund`, as Paystack's: a paid transaction refunded in full or in parts
that never pass its amount, each answered "queued" and followed by a signed `refund.processed`."""

import pytest

from sandbox.paystack.models import SandboxRefund
from sandbox.paystack.tests.helpers import (
    API,
    NOT_FOUND,
    checkout_path,
    initialize,
    paid,
    post_json,
    webhook_calls,
    webhook_delivery,
)
from testing.paystack_api import paystack_json

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]


def refund(client, body):
    return post_json(client, f"{API}/refund", body)


def test_a_full_refund_is_queued_then_reported_processed_by_webhook(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(paystack_client, {"transaction": txn.reference})
        assert webhook_calls(hooks) == []  # nothing leaves before the refund commits

    assert response.status_code == 200
    body = response.json()
    expected = paystack_json("refund_create_response.paystack-docs.json")
    assert body["status"] is True and body["message"] == expected["message"]
    assert set(expected["data"]) <= set(body["data"])
    assert set(expected["data"]["transaction"]) <= set(body["data"]["transaction"])
    assert body["data"]["status"] == "pending"
    assert (body["data"]["amount"], body["data"]["currency"]) == (9400, "GHS")
    assert body["data"]["transaction"]["reference"] == txn.reference
    assert body["data"]["transaction"]["amount"] == 9400
    stored = SandboxRefund.objects.get()
    assert (stored.amount, stored.status, stored.transaction_id) == (9400, "processed", txn.pk)
    assert body["data"]["id"] == stored.pk

    [call] = webhook_calls(hooks)
    _, payload = webhook_delivery(call)
    assert payload["event"] == "refund.processed"
    fixture = paystack_json("webhook_refund_processed.paystack-docs.json")
    assert set(fixture["data"]) <= set(payload["data"])
    assert payload["data"]["transaction_reference"] == txn.reference
    assert payload["data"]["refund_reference"] == stored.refund_reference
    assert payload["data"]["amount"] == "9400"  # a string, as Paystack sends it
    assert payload["data"]["currency"] == "GHS"
    assert payload["data"]["status"] == "processed"
    assert payload["data"]["customer"]["email"] == "ama@example.com"


def test_a_transaction_is_named_by_its_id_too(
    paystack_client, hooks, django_capture_on_commit_callbacks
):
    txn = paid(paystack_client, django_capture_on_commit_callbacks)

    by_int = refund(paystack_client, {"transaction": txn.pk, "amount": 100})
    by_text = refund(paystack_client, {"transaction": str(txn.pk), "amount": 100})

    assert (by_int.status_code, by_text.status_code) == (200, 200)
    assert by_int.json()["data"]["transaction"]["reference"] == txn.reference
    assert SandboxRefund.objects.filter(transaction=txn).count() == 2


def test_partial_refunds_add_up_to_the_amount_paid_and_no_more(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = refund(paystack_client, {"transaction": txn.reference, "amount": 4000})
        over = refund(paystack_client, {"transaction": txn.reference, "amount": 5401})
        rest = refund(paystack_client, {"transaction": txn.reference})
        again = refund(paystack_client, {"transaction": txn.reference, "amount": 1})

    assert first.status_code == 200 and first.json()["data"]["amount"] == 4000
    assert over.status_code == 400 and over.json()["status"] is False
    assert over.json()["code"] == "invalid_params" and "5400" in over.json()["message"]
    assert rest.status_code == 200 and rest.json()["data"]["amount"] == 5400
    assert again.status_code == 400
    assert again.json() == {"status": False, "message": "Transaction has been fully reversed"}
    assert sorted(SandboxRefund.objects.values_list("amount", flat=True)) == [4000, 5400]
    amounts = [webhook_delivery(call)[1]["data"]["amount"] for call in webhook_calls(hooks)]
    assert amounts == ["4000", "5400"]


def test_refunding_more_than_was_paid_is_refused(
    paystack_client, hooks, txn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(paystack_client, {"transaction": txn.reference, "amount": 9401})

    assert response.status_code == 400
    assert response.json()["status"] is False
    assert SandboxRefund.objects.count() == 0
    assert webhook_calls(hooks) == []


@pytest.mark.parametrize("action", [None, "decline", "cancel"])
def test_refunding_an_unpaid_transaction_is_refused(
    paystack_client, hooks, django_capture_on_commit_callbacks, action
):
    data = initialize(paystack_client)
    if action:
        paystack_client.post(checkout_path(data["access_code"]), {"action": action})

    with django_capture_on_commit_callbacks(execute=True):
        response = refund(paystack_client, {"transaction": data["reference"]})

    assert response.status_code == 400
    assert response.json() == {"status": False, "message": "Transaction has not been paid"}
    assert SandboxRefund.objects.count() == 0
    assert webhook_calls(hooks) == []


@pytest.mark.parametrize("given", ["NOPE-1", 999_999, "999999", "9" * 40])
def test_refunding_an_unknown_transaction_is_not_found(paystack_client, given):
    response = refund(paystack_client, {"transaction": given})

    assert response.status_code == 400
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    "body",
    [{}, [], "REF", {"transaction": ""}, {"transaction": None}, {"transaction": True}]
    + [{"transaction": "REF", "amount": "100"}, {"amount": 100}]
    + [{"transaction": "REF", "amount": bad} for bad in (0, -1, True, 1.5)],
    ids=repr,
)
def test_refund_rejects_invalid_params(paystack_client, body):
    response = refund(paystack_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"
