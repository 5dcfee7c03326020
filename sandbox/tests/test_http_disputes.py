"""Disputes opened and closed in the sandbox reach the app by their signed webhooks, over HTTP
on one live server (`live_app`): an open takes the purchase's credits back, a close in the
shop's favour gives them back, a lost one keeps them taken."""

import pytest

from ai_features.models import AICreditPurchase, WebhookEvent
from sandbox.paystack.models import SandboxDispute
from sandbox.stripe.models import StripeSandboxCharge
from sandbox.tests.live import balance, buy, paystack_call, stripe_call
from testing.credits import ledger_sum, stored_balance
from testing.stripe_api import stripe_priced

pytestmark = [
    pytest.mark.urls("sandbox.tests.urls"),
    pytest.mark.postgres,
    pytest.mark.usefixtures("catalogue"),
]


def outcomes(gateway: str) -> list[tuple[str, str]]:
    rows = WebhookEvent.objects.filter(gateway=gateway).order_by("id")
    return list(rows.values_list("event", "outcome"))


@pytest.mark.parametrize(
    ("resolution", "credits", "status"),
    [("declined", 30, "completed"), ("merchant-accepted", 0, "refunded")],
)
def test_a_paystack_dispute_opens_and_resolves(live_app, live_owner, resolution, credits, status):
    reference = buy(live_app, live_owner, "starter")
    purchase = AICreditPurchase.objects.get(payment_reference=reference)

    opened = paystack_call(live_app, "POST", "test_helpers/disputes", {"transaction": reference})
    assert opened.status_code == 200, opened.text
    purchase.refresh_from_db()
    assert purchase.payment_status == "disputed"
    assert balance(live_app, live_owner) == 0

    dispute_id = opened.json()["data"]["id"]
    body = {"resolution": resolution, "message": "sandbox test"}
    resolved = paystack_call(live_app, "PUT", f"dispute/{dispute_id}/resolve", body)
    assert resolved.status_code == 200, resolved.text

    purchase.refresh_from_db()
    assert (purchase.payment_status, balance(live_app, live_owner)) == (status, credits)
    assert outcomes("paystack") == [
        ("charge.success", "credited"),
        ("charge.dispute.create", "refunded"),
        ("charge.dispute.resolve", "recorded" if credits else "refunded"),
    ]
    assert SandboxDispute.objects.get().resolution == resolution
    assert stored_balance(live_owner.business) == ledger_sum(live_owner.business)


def test_a_refund_after_a_lost_paystack_dispute_takes_nothing_more(live_app, live_owner):
    reference = buy(live_app, live_owner, "starter")
    opened = paystack_call(live_app, "POST", "test_helpers/disputes", {"transaction": reference})
    dispute_id = opened.json()["data"]["id"]
    body = {"resolution": "merchant-accepted"}
    paystack_call(live_app, "PUT", f"dispute/{dispute_id}/resolve", body)

    refunded = paystack_call(live_app, "POST", "refund", {"transaction": reference})

    assert refunded.status_code == 200, refunded.text
    purchase = AICreditPurchase.objects.get(payment_reference=reference)
    assert purchase.clawbacks.filter(cancelled=False).count() == 1  # the dispute's, no other
    assert (purchase.payment_status, balance(live_app, live_owner)) == ("refunded", 0)
    assert outcomes("paystack")[-1] == ("refund.processed", "refunded")


@pytest.mark.parametrize(
    ("status", "credits", "payment_status"),
    [("won", 30, "completed"), ("lost", 0, "refunded")],
)
def test_a_stripe_dispute_opens_and_closes(live_app, live_owner, status, credits, payment_status):
    stripe_priced("starter", "2.50")
    reference = buy(live_app, live_owner, "starter", gateway="stripe")
    purchase = AICreditPurchase.objects.get(payment_reference=reference)
    assert balance(live_app, live_owner) == 30
    charge = StripeSandboxCharge.objects.get()

    opened = stripe_call(live_app, "test_helpers/disputes", {"charge": charge.stripe_id})
    assert opened.status_code == 200, opened.text
    purchase.refresh_from_db()
    assert (purchase.payment_status, balance(live_app, live_owner)) == ("disputed", 0)

    path = f"test_helpers/disputes/{opened.json()['id']}/close"
    closed = stripe_call(live_app, path, {"status": status})
    assert closed.status_code == 200, closed.text

    purchase.refresh_from_db()
    assert (purchase.payment_status, balance(live_app, live_owner)) == (payment_status, credits)
    events = outcomes("stripe")
    assert ("charge.dispute.created", "refunded") in events
    assert ("charge.dispute.funds_withdrawn", "ignored") in events
    assert ("charge.dispute.closed", "recorded" if credits else "refunded") in events
    assert stored_balance(live_owner.business) == ledger_sum(live_owner.business)
