from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError
from django.utils import timezone

from ai_features.credits.billing import credits_reserve, credits_settle
from ai_features.credits.credits import credits_add
from ai_features.management.tests.helpers import command_output
from ai_features.models import AITransaction, AIUsageAlert, BusinessAICredits, CreditLedgerEntry
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, IdempotencyKeyFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return command_output("expire_ai_credits", *args)


def topped_up(business, amount="20", days_ago=0):
    credits_add(
        business=business,
        amount=amount,
        kind="grant",
        now=timezone.now() - timedelta(days=days_ago),
    )
    return BusinessAICredits.objects.get(business=business, is_active=True)


def test_due_balances_are_expired_with_a_ledger_entry_and_an_alert(
    business, django_capture_on_commit_callbacks
):
    topped_up(business, days_ago=181)
    fresh = BusinessFactory()
    topped_up(fresh, days_ago=10)

    with django_capture_on_commit_callbacks(execute=True):
        out = run()

    row = BusinessAICredits.objects.get(business=business)
    assert (row.is_active, row.balance) == (False, 0)
    assert CreditLedgerEntry.objects.get(business=business, kind="expiry").amount == -20
    assert ledger_sum(business) == 0
    assert list(
        AIUsageAlert.objects.filter(business=business).values_list("alert_type", flat=True)
    ) == ["expired"]
    assert mail.outbox[0].to == [business.owner.email]
    assert stored_balance(fresh) == Decimal("20.00")
    assert f"Expired balances: 1 (business ids: {business.id})" in out


def test_running_twice_changes_nothing_more(business):
    topped_up(business, days_ago=200)
    topped_up(BusinessFactory(), days_ago=175)  # expiring within 7 days
    run()
    state = (
        CreditLedgerEntry.objects.count(),
        AIUsageAlert.objects.count(),
        list(BusinessAICredits.objects.order_by("id").values_list("balance", "is_active")),
    )

    out = run()

    assert state == (
        CreditLedgerEntry.objects.count(),
        AIUsageAlert.objects.count(),
        list(BusinessAICredits.objects.order_by("id").values_list("balance", "is_active")),
    )
    assert "Expired balances: 0" in out and "Expiring-soon alerts: 0" in out


def test_expiring_soon_is_sent_once_per_expiry_date(business):
    topped_up(business, days_ago=175)  # expires in 5 days

    run()
    run()

    alerts = AIUsageAlert.objects.filter(business=business, alert_type="expiring_soon")
    assert alerts.count() == 1 and alerts.get().current_balance == Decimal("20.00")

    topped_up(business, amount="5", days_ago=174)  # a top-up moves the expiry date
    run()
    assert alerts.count() == 2


def test_balances_expiring_later_or_empty_are_not_warned(business):
    topped_up(business, days_ago=100)
    empty = BusinessFactory()
    row = topped_up(empty, days_ago=175)
    BusinessAICredits.objects.filter(pk=row.pk).update(balance=0)
    CreditLedgerEntry.objects.filter(business=empty).delete()

    run()

    assert not AIUsageAlert.objects.exists()


def test_a_stale_hold_is_released_and_running_again_changes_nothing(business, user):
    topped_up(business)
    stale = credits_reserve(business=business, user=user, feature="customer_insight", credits="5")
    AITransaction.objects.filter(pk=stale.pk).update(
        timestamp=timezone.now() - timedelta(minutes=20)
    )
    recent = credits_reserve(business=business, user=user, feature="customer_insight", credits="3")

    out = run()
    again = run()

    stale.refresh_from_db()
    recent.refresh_from_db()
    assert (stale.status, stale.success) == ("released", False)
    assert "not settled within 15 minutes" in stale.error_message
    assert recent.status == "pending"
    assert stored_balance(business) == Decimal("17.00") == ledger_sum(business)
    assert f"Stale holds released: 1 (transaction ids: {stale.id})" in out
    assert "Stale holds released: 0" in again


def test_hold_timeout_is_configurable(business, user):
    topped_up(business)
    hold = credits_reserve(business=business, user=user, feature="customer_insight", credits="5")
    AITransaction.objects.filter(pk=hold.pk).update(timestamp=timezone.now() - timedelta(minutes=6))

    run("--hold-timeout", "5")

    hold.refresh_from_db()
    assert hold.status == "released"


def test_a_settled_hold_is_never_released(business, user):
    topped_up(business)
    hold = credits_reserve(business=business, user=user, feature="customer_insight", credits="5")
    credits_settle(hold=hold, credits="5")
    AITransaction.objects.filter(pk=hold.pk).update(timestamp=timezone.now() - timedelta(hours=1))

    run()

    hold.refresh_from_db()
    assert hold.status == "completed" and stored_balance(business) == Decimal("15.00")


def test_a_hold_timeout_below_one_minute_is_refused():
    with pytest.raises(CommandError):
        run("--hold-timeout", "0")


def test_the_expiring_soon_alert_is_emailed_to_the_owner(
    business, django_capture_on_commit_callbacks
):
    topped_up(business, days_ago=175)

    with django_capture_on_commit_callbacks(execute=True):
        run()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [business.owner.email]
    assert "expire soon" in mail.outbox[0].subject


def test_an_empty_balance_expires_without_an_alert(business):
    row = topped_up(business, days_ago=200)
    BusinessAICredits.objects.filter(pk=row.pk).update(balance=0)
    CreditLedgerEntry.objects.filter(business=business).delete()

    run()

    row.refresh_from_db()
    assert not row.is_active
    assert not AIUsageAlert.objects.exists()


def test_a_stale_hold_on_a_balance_that_just_expired_is_reported_released(business, user):
    # Regression: the release message gains "(the hold was forfeited …)" for an expired balance,
    # and the cron, comparing messages exactly, released the hold without reporting it.
    topped_up(business, days_ago=179)
    hold = credits_reserve(business=business, user=user, feature="customer_insight", credits="5")
    AITransaction.objects.filter(pk=hold.pk).update(timestamp=timezone.now() - timedelta(hours=1))
    BusinessAICredits.objects.filter(business=business).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    out = run()

    hold.refresh_from_db()
    assert hold.status == "released" and "forfeited" in hold.error_message
    assert f"Stale holds released: 1 (transaction ids: {hold.id})" in out
    assert ledger_sum(business) == stored_balance(business) == 0


def test_stored_feature_answers_are_deleted_after_24_hours(business, user):
    from ai_features.models import IdempotencyKey

    def stored(key, hours_ago, answer):
        row = IdempotencyKeyFactory(
            scope="feature",
            user=user,
            business=business,
            key=key,
            feature="customer_insight",
            fingerprint="f" * 64,
            answer=answer,
        )
        IdempotencyKey.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - timedelta(hours=hours_ago),
            expires_at=timezone.now() - timedelta(hours=hours_ago - 24),
        )

    stored("old", 25, {"result": {"summary": "customer data"}})
    stored("fresh", 23, {"result": {"summary": "customer data"}})
    stored("abandoned", 1, None)  # a claim whose request died: no answer after an hour
    stored("in-flight", 0, None)

    output = run()

    assert "Stored AI answers deleted: 2" in output
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {
        "fresh",
        "in-flight",
    }
    assert "Stored AI answers deleted: 0" in run()
