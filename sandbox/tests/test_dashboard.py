"""The sandbox dashboard (`/sandbox/paystack/dashboard`): the latest payments, with buttons that
refund a Paystack payment and open and resolve a dispute through the same services as the API,
so the same signed webhooks follow; and links to the Stripe payments' own pages."""

import re

import pytest
from django.test import Client

from sandbox.paystack.models import SandboxDispute, SandboxRefund
from sandbox.paystack.tests.helpers import (
    API,
    checkout_path,
    initialize,
    webhook_calls,
    webhook_delivery,
)
from sandbox.stripe.tests.helpers import open_session, page_path

pytestmark = [pytest.mark.urls("sandbox.tests.urls"), pytest.mark.django_db]
PAGE = f"{API}/dashboard"


@pytest.fixture
def press(django_capture_on_commit_callbacks):
    """Press a dashboard button as a browser does (CSRF token and all), letting webhooks leave."""

    def post(action, **fields):
        browser = Client(enforce_csrf_checks=True)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(PAGE).text)
        data = {"action": action, "csrfmiddlewaretoken": token[1], **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return browser.post(PAGE, data)

    return post


def events(hooks) -> list[tuple[str, dict]]:
    return [
        (payload["event"], payload["data"])
        for payload in (webhook_delivery(call)[1] for call in webhook_calls(hooks))
    ]


def test_the_page_lists_payments_with_buttons_for_the_paid_ones(paystack_client, txn):
    initialize(paystack_client, reference="AI-CRED-0002")  # not paid

    page = Client().get(PAGE)

    assert page.status_code == 200 and "no-cache" in page["Cache-Control"]
    html = page.text
    assert "<title>Sandbox dashboard</title>" in html
    paid_row = html[html.index('id="txn-AI-CRED-0001"') :]
    unpaid_row = html[html.index('id="txn-AI-CRED-0002"') : html.index('id="txn-AI-CRED-0001"')]
    assert 'value="refund">Refund</button>' in paid_row
    assert 'value="dispute_open">Open a dispute</button>' in paid_row
    assert "not paid" in unpaid_row and "Refund</button>" not in unpaid_row


def test_a_payment_is_refunded_in_part_then_in_full(txn, hooks, press):
    part = press("refund", reference=txn.reference, refund_amount="40.00")
    shown = Client().get(part["Location"]).text
    rest = press("refund", reference=txn.reference, refund_amount="")

    assert part.status_code == 302 and part["Location"] == f"{PAGE}?done=refund"
    assert "Refund sent" in shown and "GHS 40.00" in shown
    assert rest.status_code == 302
    assert sorted(SandboxRefund.objects.values_list("amount", flat=True)) == [4000, 5400]
    assert [(event, data["amount"]) for event, data in events(hooks)] == [
        ("refund.processed", "4000"),
        ("refund.processed", "5400"),
    ]
    after = Client().get(PAGE).text
    assert 'value="refund">Refund</button>' not in after  # nothing left to refund


@pytest.mark.parametrize("typed", ["abc", "-1", "0", "1.001", "94.01"])
def test_a_refund_must_be_an_amount_within_what_is_left(txn, hooks, press, typed):
    answer = press("refund", reference=txn.reference, refund_amount=typed)

    assert answer.status_code == 400 and 'id="error"' in answer.text
    assert SandboxRefund.objects.count() == 0
    assert webhook_calls(hooks) == []


def test_a_dispute_is_opened_then_resolved(txn, hooks, press):
    opened = press("dispute_open", reference=txn.reference)
    shown = Client().get(opened["Location"]).text
    dispute = SandboxDispute.objects.get()
    resolved = press("dispute_resolve", dispute=str(dispute.pk), resolution="declined")
    after = Client().get(resolved["Location"]).text

    assert opened.status_code == 302 and "Dispute opened" in shown
    assert 'name="resolution" value="merchant-accepted"' in shown
    assert resolved.status_code == 302 and "Dispute resolved" in after
    assert f"Dispute {dispute.pk}: declined" in after
    assert [event for event, _ in events(hooks)] == [
        "charge.dispute.create",
        "charge.dispute.resolve",
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "steal"},
        {"action": "refund", "reference": "NOPE-1"},
        {"action": "dispute_open", "reference": "NOPE-1"},
        {"action": "dispute_resolve", "dispute": "x", "resolution": "declined"},
        {"action": "dispute_resolve", "dispute": "4242", "resolution": "declined"},
    ],
    ids=repr,
)
def test_what_cannot_be_done_is_a_400_that_says_why(txn, hooks, press, fields):
    answer = press(**fields)

    assert answer.status_code == 400 and 'id="error"' in answer.text
    assert webhook_calls(hooks) == []


def test_a_post_without_the_csrf_token_is_refused(txn):
    answer = Client(enforce_csrf_checks=True).post(
        PAGE, {"action": "refund", "reference": txn.reference}
    )

    assert answer.status_code == 403
    assert SandboxRefund.objects.count() == 0


def test_stripe_payments_link_to_their_own_page(
    sdk, stripe_hooks, django_capture_on_commit_callbacks
):
    session = open_session(sdk)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(page_path(session), {"action": "pay"})

    html = Client().get(PAGE).text

    assert f'href="{page_path(session)}"' in html


def test_the_used_checkout_page_of_a_paid_payment_links_here(paystack_client, txn):
    page = Client().get(checkout_path(txn.access_code))

    assert page.status_code == 410
    assert f'id="dashboard" href="{PAGE}"' in page.text


def test_it_is_404_when_the_sandbox_is_off(settings):
    settings.SANDBOX = False

    assert Client().get(PAGE).status_code == 404
    assert Client().post(PAGE, {"action": "refund"}).status_code == 404
