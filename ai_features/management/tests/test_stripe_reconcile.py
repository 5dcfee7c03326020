"""reconcile_ai_payments for Stripe purchases: the Checkout Session is retrieved through the
real SDK and the purchase settled (design sections 10 and 13)."""

from decimal import Decimal

import pytest
import requests

from ai_features.management.tests.helpers import aged, command_output
from ai_features.models import CreditLedgerEntry
from testing.credits import stored_balance
from testing.factories import StripePurchaseFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return command_output("reconcile_ai_payments", *args)


def outcome_of(out: str, purchase) -> str:
    (line,) = [row for row in out.splitlines() if purchase.payment_reference in row]
    return line.split()[-1]


@pytest.fixture
def stuck(business, stripe_settings):
    """A Stripe purchase left pending for 45 minutes."""
    return aged(StripePurchaseFactory(business=business), minutes=45)


def test_a_paid_session_is_credited_once(business, stuck, stripe_api):
    stripe_api.retrieve(stuck, status="complete", payment_status="paid")

    out = run()
    again = run()

    stuck.refresh_from_db()
    assert stuck.payment_status == "completed"
    assert outcome_of(out, stuck) == "credited"
    assert stored_balance(business) == Decimal("100.00")
    assert CreditLedgerEntry.objects.filter(purchase=stuck).count() == 1
    assert "Checked 0 unsettled" in again
    (call,) = stripe_api.mock.calls
    assert call.request.url.endswith(f"/v1/checkout/sessions/{stuck.checkout_session_id}")


def test_an_expired_session_fails_the_purchase(business, stuck, stripe_api):
    stripe_api.retrieve(stuck, status="expired", payment_status="unpaid")

    out = run()

    stuck.refresh_from_db()
    assert stuck.payment_status == "failed"
    assert outcome_of(out, stuck) == "failed"
    assert stored_balance(business) == 0


def test_a_still_open_session_stays_pending_and_is_reported_so(business, stuck, stripe_api):
    """Regression: the command reported "failed" for a purchase it left pending (the verify
    answer for a checkout not completed yet)."""
    stripe_api.retrieve(stuck)  # open, unpaid

    out = run()

    stuck.refresh_from_db()
    assert stuck.payment_status == "pending" and stuck.gateway_status == "open/unpaid"
    assert outcome_of(out, stuck) == "pending"


def test_a_delayed_payment_on_its_way_stays_pending(business, stuck, stripe_api):
    stripe_api.retrieve(stuck, status="complete", payment_status="unpaid")

    out = run()

    stuck.refresh_from_db()
    assert stuck.payment_status == "pending" and outcome_of(out, stuck) == "pending"


def test_one_unpaid_after_24_hours_is_failed(business, stuck, stripe_api):
    old = aged(stuck, hours=25)
    stripe_api.retrieve(old)  # still open

    out = run()

    old.refresh_from_db()
    assert old.payment_status == "failed"
    assert "abandoned" in old.failure_reason
    assert outcome_of(out, old) == "failed"


def test_a_delayed_payment_still_on_its_way_after_24_hours_is_not_abandoned(
    business, stuck, stripe_api
):
    """Regression: a bank debit (complete/unpaid) takes days, but the 24-hour rule failed the
    purchase as abandoned; had the success webhook then been lost, reconciliation (which asks
    about declined purchases for 48 hours only) would never have credited it."""
    old = aged(stuck, days=3)
    stripe_api.retrieve(old, status="complete", payment_status="unpaid")

    out = run()

    old.refresh_from_db()
    assert old.payment_status == "pending" and outcome_of(out, old) == "pending"
    stripe_api.mock.replace(
        "GET",
        f"{stripe_api.base}/v1/checkout/sessions/{old.checkout_session_id}",
        json=stripe_api.session(old, status="complete", payment_status="paid"),
    )
    assert outcome_of(run(), old) == "credited"
    assert stored_balance(business) == Decimal("100.00")


def test_one_whose_checkout_never_reached_stripe_waits_then_fails(
    business, stripe_api, stripe_settings
):
    recent = aged(StripePurchaseFactory(business=business, checkout_session_id=""), hours=2)
    old = aged(StripePurchaseFactory(business=business, checkout_session_id=""), hours=30)

    out = run()

    recent.refresh_from_db()
    old.refresh_from_db()
    assert recent.payment_status == "pending" and outcome_of(out, recent) == "pending"
    assert old.payment_status == "failed"
    assert not stripe_api.mock.calls


def test_a_session_stripe_does_not_know_is_failed_after_24_hours(business, stuck, stripe_api):
    old = aged(stuck, hours=30)
    stripe_api.retrieve_error(
        old.checkout_session_id,
        status=404,
        body={"error": {"type": "invalid_request_error", "code": "resource_missing"}},
    )

    run()

    old.refresh_from_db()
    assert old.payment_status == "failed"


def test_an_outage_skips_the_purchase_and_keeps_it_pending(business, stripe_api, stripe_settings):
    broken = aged(StripePurchaseFactory(business=business), hours=30)
    fine = aged(StripePurchaseFactory(business=business), hours=1)
    stripe_api.retrieve_error(broken.checkout_session_id, exc=requests.exceptions.ConnectionError())
    stripe_api.retrieve(fine, status="complete", payment_status="paid")

    out = run()

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.payment_status == "pending"
    assert "error: payment_gateway_unreachable" in out
    assert fine.payment_status == "completed"


def test_a_recent_async_failure_is_asked_about_again(business, stripe_api, stripe_settings):
    """A failed delayed payment (complete/unpaid) is rechecked for 48 hours, in case a later
    success's webhook was lost; a paid session then credits it."""
    failed = aged(
        StripePurchaseFactory(business=business, status="failed", gateway_status="complete/unpaid"),
        hours=3,
    )
    stripe_api.retrieve(failed, status="complete", payment_status="paid")

    run()

    failed.refresh_from_db()
    assert failed.payment_status == "completed"
    assert stored_balance(business) == Decimal("100.00")


def test_an_expired_failed_session_is_not_asked_about_again(business, stripe_api, stripe_settings):
    aged(
        StripePurchaseFactory(business=business, status="failed", gateway_status="expired/unpaid"),
        hours=3,
    )

    out = run()

    assert "Checked 0 unsettled" in out and not stripe_api.mock.calls
