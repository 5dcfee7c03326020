"""The checkout page behind authorization_url: Pay, Decline or Cancel, once."""

import re

import pytest
from django.test import Client

from sandbox.paystack import services
from sandbox.paystack.models import SandboxTransaction
from sandbox.paystack.tests.helpers import (
    checkout_path,
    initialize,
    verify,
    webhook_calls,
    webhook_delivery,
)
from testing.paystack_api import paystack_json
from testing.races import run_in_threads

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]

CALLBACK = "http://shop.test/payment/callback"
USED = "This payment link has already been used."


def submit(client, access_code, action, capture):
    with capture(execute=True):
        return client.post(checkout_path(access_code), {"action": action})


def test_the_page_shows_what_is_being_paid(paystack_client):
    data = initialize(paystack_client)

    response = paystack_client.get(checkout_path(data["access_code"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Paystack sandbox checkout</title>" in html
    assert "GHS 94.00" in html
    assert '<dd id="currency">GHS</dd>' in html
    assert '<dd id="channel">Mobile money</dd>' in html
    assert "ama@example.com" in html
    assert "AI-CRED-0001" in html
    for action, label in (("pay", "Pay"), ("decline", "Decline"), ("cancel", "Cancel")):
        assert f'id="{action}" name="action" value="{action}">{label}</button>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "no-cache" in response["Cache-Control"]


def test_the_page_shows_pesewas_as_cedis_and_card_as_card(paystack_client):
    data = initialize(paystack_client, amount=123405, channels=["card", "mobile_money"])

    html = paystack_client.get(checkout_path(data["access_code"])).content.decode()

    assert "GHS 1234.05" in html
    assert '<dd id="channel">Card</dd>' in html


def test_an_unknown_access_code_is_404(paystack_client):
    assert paystack_client.get(checkout_path("no-such-code")).status_code == 404
    assert paystack_client.post(checkout_path("no-such-code"), {"action": "pay"}).status_code == 404


def test_pay_redirects_to_the_callback_and_sends_one_signed_charge_success(
    paystack_client, hooks, django_capture_on_commit_callbacks
):
    data = initialize(paystack_client)

    with django_capture_on_commit_callbacks(execute=True):
        response = paystack_client.post(checkout_path(data["access_code"]), {"action": "pay"})
        assert webhook_calls(hooks) == []  # nothing leaves before the payment commits

    assert response.status_code == 302
    assert response["Location"] == f"{CALLBACK}?trxref=AI-CRED-0001&reference=AI-CRED-0001"
    txn = SandboxTransaction.objects.get()
    assert txn.status == "success" and txn.checkout_used is True and txn.paid_at is not None
    assert txn.gateway_response == "Approved"

    [call] = webhook_calls(hooks)
    raw, payload = webhook_delivery(call)
    assert payload["event"] == "charge.success"
    fixture = paystack_json("webhook_charge_success_mobile_money_ghs.paystack-docs.json")
    assert set(fixture["data"]) <= set(payload["data"]), set(fixture["data"]) - set(payload["data"])
    sent = payload["data"]
    assert sent["reference"] == "AI-CRED-0001"
    assert sent["amount"] == 9400 and isinstance(sent["amount"], int)
    assert sent["currency"] == "GHS"
    assert sent["status"] == "success"
    assert sent["channel"] == "mobile_money"
    assert sent["gateway_response"] == "Approved"
    assert sent["paid_at"] == verify(paystack_client, "AI-CRED-0001").json()["data"]["paid_at"]
    assert sent["customer"]["email"] == "ama@example.com"
    assert sent["metadata"] == {"purchase_id": 7}
    assert sent["authorization"]["channel"] == "mobile_money"
    assert sent["authorization"]["authorization_code"] == txn.authorization_code


def test_the_signature_covers_the_exact_bytes_sent(
    paystack_client, hooks, django_capture_on_commit_callbacks
):
    from ai_features.payments.gateways.paystack import PaystackService

    data = initialize(paystack_client)
    submit(paystack_client, data["access_code"], "pay", django_capture_on_commit_callbacks)

    [call] = webhook_calls(hooks)
    raw, _ = webhook_delivery(call)
    signature = call.request.headers["x-paystack-signature"]
    checker = PaystackService(secret_key="sk_test_sandbox")
    assert re.fullmatch(r"[0-9a-f]{128}", signature)
    assert checker.is_valid_signature(raw, signature)
    assert not checker.is_valid_signature(raw + b" ", signature)
    assert not PaystackService(secret_key="sk_test_other").is_valid_signature(raw, signature)


def test_a_card_payment_reports_a_card_authorization(
    paystack_client, hooks, django_capture_on_commit_callbacks
):
    data = initialize(paystack_client, channels=["card"])
    submit(paystack_client, data["access_code"], "pay", django_capture_on_commit_callbacks)

    [call] = webhook_calls(hooks)
    sent = webhook_delivery(call)[1]["data"]
    assert sent["channel"] == "card"
    assert sent["authorization"]["channel"] == "card"
    assert sent["authorization"]["last4"] == "4081"


def test_without_channels_the_payer_picks_one_on_the_page(paystack_client):
    data = initialize(paystack_client, channels=...)

    html = paystack_client.get(checkout_path(data["access_code"])).content.decode()

    assert 'id="channel"' not in html
    assert '<select id="channel-choice" name="channel" form="checkout-form">' in html
    assert '<option value="mobile_money">Mobile money</option>' in html
    assert '<option value="card">Card</option>' in html


@pytest.mark.parametrize(("picked", "last4"), [("card", "4081"), ("mobile_money", "X987")])
def test_the_channel_picked_is_the_one_paid_with(
    paystack_client, hooks, django_capture_on_commit_callbacks, picked, last4
):
    data = initialize(paystack_client, channels=...)

    with django_capture_on_commit_callbacks(execute=True):
        paystack_client.post(
            checkout_path(data["access_code"]), {"action": "pay", "channel": picked}
        )

    sent = webhook_delivery(webhook_calls(hooks)[0])[1]["data"]
    assert (sent["channel"], sent["authorization"]["last4"]) == (picked, last4)
    assert verify(paystack_client, "AI-CRED-0001").json()["data"]["channel"] == picked


def test_a_channel_the_page_did_not_offer_is_refused(paystack_client, hooks):
    data = initialize(paystack_client, channels=...)

    response = paystack_client.post(
        checkout_path(data["access_code"]), {"action": "pay", "channel": "bitcoin"}
    )

    assert response.status_code == 400
    assert "Choose a payment channel." in response.content.decode()
    assert SandboxTransaction.objects.get().checkout_used is False
    assert webhook_calls(hooks) == []


def test_the_callback_keeps_its_own_query(
    paystack_client, hooks, django_capture_on_commit_callbacks
):
    data = initialize(paystack_client, callback_url="http://shop.test/cb?tab=credits#top")

    response = submit(
        paystack_client, data["access_code"], "cancel", django_capture_on_commit_callbacks
    )

    expected = "http://shop.test/cb?tab=credits&trxref=AI-CRED-0001&reference=AI-CRED-0001#top"
    assert response["Location"] == expected


@pytest.mark.parametrize(
    ("action", "status", "gateway_response"),
    [
        ("decline", "failed", "Declined"),
        ("cancel", "abandoned", "The transaction was not completed"),
    ],
)
def test_decline_and_cancel_redirect_without_a_webhook(
    paystack_client, hooks, django_capture_on_commit_callbacks, action, status, gateway_response
):
    data = initialize(paystack_client)

    response = submit(
        paystack_client, data["access_code"], action, django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    assert response["Location"] == f"{CALLBACK}?trxref=AI-CRED-0001&reference=AI-CRED-0001"
    txn = SandboxTransaction.objects.get()
    assert (txn.status, txn.gateway_response) == (status, gateway_response)
    assert txn.checkout_used is True and txn.paid_at is None
    assert webhook_calls(hooks) == []


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        ("pay", "Payment approved."),
        ("decline", "Payment declined."),
        ("cancel", "Payment cancelled."),
    ],
)
def test_without_a_callback_url_a_done_page_is_shown(
    paystack_client, hooks, django_capture_on_commit_callbacks, action, outcome
):
    data = initialize(paystack_client, callback_url=...)

    response = submit(
        paystack_client, data["access_code"], action, django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert outcome in html
    assert "<button" not in html


@pytest.mark.parametrize("first", ["pay", "decline", "cancel"])
def test_the_link_works_once(paystack_client, hooks, django_capture_on_commit_callbacks, first):
    data = initialize(paystack_client)
    assert (
        submit(
            paystack_client, data["access_code"], first, django_capture_on_commit_callbacks
        ).status_code
        == 302
    )
    settled = SandboxTransaction.objects.get()

    page = paystack_client.get(checkout_path(data["access_code"]))
    again = submit(paystack_client, data["access_code"], "pay", django_capture_on_commit_callbacks)

    for response in (page, again):
        assert response.status_code == 410
        html = response.content.decode()
        assert USED in html
        assert "<button" not in html and "<form" not in html
    after = SandboxTransaction.objects.get()
    assert (after.status, after.paid_at) == (settled.status, settled.paid_at)
    expected_hooks = 1 if first == "pay" else 0
    assert len(webhook_calls(hooks)) == expected_hooks


@pytest.mark.parametrize("action", ["", "refund", "PAY"])
def test_an_unknown_action_changes_nothing(paystack_client, hooks, action):
    data = initialize(paystack_client)

    response = paystack_client.post(checkout_path(data["access_code"]), {"action": action})

    assert response.status_code == 400
    assert "<button" in response.content.decode()
    txn = SandboxTransaction.objects.get()
    assert txn.checkout_used is False and txn.status == "abandoned"


def test_the_form_is_csrf_protected(paystack_client, hooks, django_capture_on_commit_callbacks):
    data = initialize(paystack_client)
    browser = Client(enforce_csrf_checks=True)

    forged = browser.post(checkout_path(data["access_code"]), {"action": "pay"})
    assert forged.status_code == 403
    assert SandboxTransaction.objects.get().checkout_used is False

    html = browser.get(checkout_path(data["access_code"])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        posted = browser.post(
            checkout_path(data["access_code"]), {"action": "pay", "csrfmiddlewaretoken": token}
        )
    assert posted.status_code == 302
    assert SandboxTransaction.objects.get().status == "success"


def test_checkout_complete_acts_once(hooks, django_capture_on_commit_callbacks, paystack_client):
    data = initialize(paystack_client)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.checkout_complete(data["access_code"], "pay")
        second = services.checkout_complete(data["access_code"], "decline")

    assert first is not None and first.status == "success"
    assert second is None
    assert SandboxTransaction.objects.get().status == "success"
    assert len(webhook_calls(hooks)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_pay_once(hooks):
    txn = SandboxTransaction.objects.create(
        reference="RACE-1", email="ama@example.com", amount=9400, currency="GHS"
    )
    results = []

    run_in_threads(6, lambda i: results.append(services.checkout_complete(txn.access_code, "pay")))

    assert sum(result is not None for result in results) == 1
    assert len(webhook_calls(hooks)) == 1
