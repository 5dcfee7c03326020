"""Issue 19's repro, over HTTP: a refund that arrives while AI calls hold every credit.

The app's own purchase, feature and webhook endpoints, the Paystack sandbox (checkout,
`POST /refund`, its signed webhooks posted back to the app) and the OpenAI stand-in (reached by
the real SDK) all run on one live server (`live_app`). The stand-in's `[sandbox:slow=N]` wait is
replaced by a gate the test opens once the refund is in, so the 12 calls stay pending for as
long as the test needs, and no longer.
"""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command

from ai_features.models import AITransaction, CreditClawback, CreditLedgerEntry, WebhookEvent
from sandbox.openai import standin as openai_standin
from sandbox.tests.live import TIMEOUT, balance, buy, paystack_call
from testing.credits import ledger_sum, stored_balance

pytestmark = [
    pytest.mark.urls("sandbox.tests.urls"),
    pytest.mark.postgres,
    pytest.mark.usefixtures("catalogue"),
]

CALLS = 12  # 12 product descriptions at 2.50 hold the starter pack's 30 credits
SLOW_AND_FAILING = "Kente scarf [sandbox:slow=12][sandbox:500]"


class Gate:
    """Stands in for the stand-in's pause: counts who waits, and holds them until opened."""

    def __init__(self):
        self.opened = threading.Event()
        self.waiting = []
        self.lock = threading.Lock()

    def pause(self, seconds):
        with self.lock:
            self.waiting.append(seconds)
        self.opened.wait(timeout=TIMEOUT)


@pytest.fixture
def provider_gate(monkeypatch):
    gate = Gate()
    monkeypatch.setattr(openai_standin, "pause", gate.pause)
    yield gate
    gate.opened.set()  # never leave a server thread waiting


def until(predicate, what: str):
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def describe(app, owner, name: str):
    return owner.post(
        f"{app}/ai/api/features/product-description/",
        json={"product_name": name, "tone": "friendly"},
        timeout=TIMEOUT + 10,
    )


def test_a_refund_during_pending_holds_leaves_nothing_to_spend(live_app, live_owner, provider_gate):
    app, owner = live_app, live_owner
    business = owner.business

    # 1. Buy the starter pack (30 credits) through the Paystack sandbox.
    reference = buy(app, owner, "starter")
    assert WebhookEvent.objects.get(event="charge.success").outcome == "credited"
    verified = owner.get(f"{app}/ai/api/credits/verify/", params={"reference": reference})
    assert verified.status_code == 200, verified.text
    assert balance(app, owner) == 30

    # 2. Twelve product descriptions against a provider that answers 500 after a wait: twelve
    #    holds of 2.50 take the balance to 0 while the provider keeps them waiting.
    answers = [None] * CALLS

    def call(index):
        answers[index] = describe(app, owner, SLOW_AND_FAILING)

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(CALLS)]
    for thread in threads:
        thread.start()
    until(lambda: len(provider_gate.waiting) == CALLS, "12 calls at the provider")
    assert provider_gate.waiting == [12.0] * CALLS
    assert AITransaction.objects.filter(business=business, status="pending").count() == CALLS
    assert balance(app, owner) == 0

    # 3. Refund the payment in the Paystack sandbox; its refund.processed reaches our webhook.
    refunded = paystack_call(app, "POST", "refund", {"transaction": reference})
    assert refunded.status_code == 200, refunded.text
    assert WebhookEvent.objects.get(event="refund.processed").outcome == "refunded"
    claim = CreditClawback.objects.get()
    assert (claim.share, claim.taken, claim.reserved, claim.shortfall) == (30, 0, 30, 0)

    # 4. The provider fails all twelve; each call releases its hold, which pays the reserve.
    provider_gate.opened.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 15)
    assert not any(thread.is_alive() for thread in threads), "a feature call hung"
    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (502, "ai_provider_error")
    ] * CALLS

    # 5. Nothing refunded can be spent: the balance is 0 and a further call is refused.
    assert balance(app, owner) == 0
    refused = describe(app, owner, "Kente scarf")
    assert refused.status_code == 402, refused.text
    claim.refresh_from_db()
    assert (claim.taken, claim.reserved, claim.shortfall) == (30, 0, 0)
    assert CreditLedgerEntry.objects.filter(business=business, kind="refund").count() == CALLS
    assert stored_balance(business) == ledger_sum(business) == 0

    out = StringIO()
    call_command("reconcile_ai_payments", "--check-ledger", stdout=out)
    assert "Ledger OK" in out.getvalue() and "Claims OK" in out.getvalue()
