"""Charging AI features: single-shot charges and holds (design section 9)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from ai_features.credits.billing import (
    credits_charge,
    credits_hold,
    credits_release,
    credits_reserve,
    credits_settle,
)
from ai_features.credits.credits import balance_get, credits_add
from ai_features.errors import CreditsExpired, InsufficientCredits, InvalidAmount, UnknownFeature
from ai_features.models import (
    AIFeaturePrice,
    AITransaction,
    AIUsageAlert,
    BusinessAICredits,
    CreditLedgerEntry,
)
from testing.credits import ledger_sum, stored_balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(business):
    credits_add(business=business, amount="20", kind="grant")
    return business


def alerts_of(business):
    return list(
        AIUsageAlert.objects.filter(business=business)
        .order_by("id")
        .values_list("alert_type", flat=True)
    )


def test_a_charge_uses_the_feature_price_and_records_the_transaction(funded, user):
    usage = credits_charge(
        business=funded, user=user, feature="product_description", tokens_used=321
    )

    assert usage.credits_used == Decimal("2.50") and usage.status == "completed"
    assert usage.success and usage.tokens_used == 321 and usage.user == user
    assert stored_balance(funded) == Decimal("17.50") == ledger_sum(funded)
    entry = CreditLedgerEntry.objects.get(usage=usage)
    assert (entry.kind, entry.amount) == ("usage", Decimal("-2.50"))


def test_an_explicit_credit_amount_overrides_the_price(funded, user):
    usage = credits_charge(business=funded, user=user, feature="customer_insight", credits="0.75")

    assert usage.credits_used == Decimal("0.75")
    assert stored_balance(funded) == Decimal("19.25")


def test_feature_prices_are_editable_without_a_deploy(funded, user):
    AIFeaturePrice.objects.filter(feature="customer_insight").update(credits=Decimal("3.00"))

    usage = credits_charge(business=funded, user=user, feature="customer_insight")

    assert usage.credits_used == Decimal("3.00")


def test_an_unknown_or_disabled_feature_is_an_error_never_free(funded, user):
    AIFeaturePrice.objects.filter(feature="customer_insight").update(is_active=False)

    with pytest.raises(UnknownFeature):
        credits_charge(business=funded, user=user, feature="image_magic")
    with pytest.raises(UnknownFeature):
        credits_charge(business=funded, user=user, feature="customer_insight")

    assert stored_balance(funded) == Decimal("20.00")
    assert not AITransaction.objects.exists()


def test_a_charge_larger_than_the_balance_is_refused_and_records_nothing(funded, user):
    with pytest.raises(InsufficientCredits) as caught:
        credits_charge(business=funded, user=user, feature="customer_insight", credits="20.01")

    assert caught.value.status_code == 402 and caught.value.code == "insufficient_credits"
    assert stored_balance(funded) == Decimal("20.00")
    assert not AITransaction.objects.exists()


@pytest.mark.parametrize("credits", ["0", "-1", "1.001", "lots"])
def test_a_charge_of_a_bad_amount_is_refused(funded, user, credits):
    with pytest.raises(InvalidAmount):
        credits_charge(business=funded, user=user, feature="product_description", credits=credits)


def test_one_second_before_expiry_a_charge_works(funded, user, monkeypatch):
    row = BusinessAICredits.objects.get(business=funded)
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at - timedelta(seconds=1))

    credits_charge(business=funded, user=user, feature="product_description")

    assert stored_balance(funded) == Decimal("17.50")


def test_at_expiry_a_charge_applies_the_expiry_and_raises(funded, user, monkeypatch):
    row = BusinessAICredits.objects.get(business=funded)
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at)

    with pytest.raises(CreditsExpired) as caught:
        credits_charge(business=funded, user=user, feature="product_description")

    assert caught.value.status_code == 402 and caught.value.code == "credits_expired"
    row.refresh_from_db()
    assert not row.is_active and row.balance == 0
    expiry = CreditLedgerEntry.objects.get(kind="expiry")
    assert expiry.amount == Decimal("-20.00")
    assert ledger_sum(funded) == 0 and "expired" in alerts_of(funded)
    assert not AITransaction.objects.exists()


@pytest.mark.parametrize("spend", [credits_charge, credits_reserve], ids=lambda f: f.__name__)
def test_a_refused_spend_keeps_the_forfeit_inside_the_callers_transaction(
    funded, user, monkeypatch, spend
):
    # `_expiring` forfeits after the spend's own atomic block has rolled back, in the caller's
    # transaction. An atomic block around `_expiring` (a decorator above it), or one inside it
    # around the forfeit, would roll the forfeit back with the error: this fails then.
    row = BusinessAICredits.objects.get(business=funded)
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at)

    # The caller's transaction, which carries on after the refusal.
    with transaction.atomic(), pytest.raises(CreditsExpired):
        spend(business=funded, user=user, feature="product_description")

    row.refresh_from_db()
    assert not row.is_active and row.balance == 0 and ledger_sum(funded) == 0
    assert CreditLedgerEntry.objects.filter(kind="expiry").count() == 1
    assert not AITransaction.objects.exists()


def test_a_forfeit_leaves_with_a_callers_transaction_that_fails_and_comes_again(
    funded, user, monkeypatch
):
    # What is right when the error leaves the caller's transaction: the forfeit goes with it
    # (all or nothing), and nothing is lost by that: the balance still shows zero and cannot
    # pay, and the next spend (or the expiry cron) forfeits it.
    row = BusinessAICredits.objects.get(business=funded)
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at)

    with pytest.raises(CreditsExpired), transaction.atomic():
        credits_charge(business=funded, user=user, feature="product_description")

    row.refresh_from_db()
    assert row.is_active and row.balance == Decimal("20.00")
    assert balance_get(business=funded)["balance"] == 0
    with pytest.raises(CreditsExpired):
        credits_charge(business=funded, user=user, feature="product_description")
    row.refresh_from_db()
    assert not row.is_active and row.balance == 0 and ledger_sum(funded) == 0


def test_a_top_up_after_expiry_starts_a_fresh_balance_with_a_new_expiry(funded, user, monkeypatch):
    old = BusinessAICredits.objects.get(business=funded)
    later = old.expires_at + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(CreditsExpired):
        credits_charge(business=funded, user=user, feature="product_description")

    credits_add(business=funded, amount="30", kind="purchase")

    fresh = BusinessAICredits.objects.get(business=funded, is_active=True)
    assert fresh.pk != old.pk and fresh.balance == Decimal("30.00")
    assert fresh.expires_at == later + timedelta(days=180)
    credits_charge(business=funded, user=user, feature="product_description")
    assert stored_balance(funded) == Decimal("27.50") == ledger_sum(funded)


# --- Alerts ------------------------------------------------------------------------------


def test_low_balance_is_raised_once_when_the_threshold_is_crossed(
    funded, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        credits_charge(
            business=funded, user=user, feature="customer_insight", credits="10.00"
        )  # to exactly 10
        credits_charge(
            business=funded, user=user, feature="customer_insight", credits="0.50"
        )  # 9.50: crossed
        credits_charge(
            business=funded, user=user, feature="customer_insight", credits="1.00"
        )  # still below

    assert alerts_of(funded) == ["low_balance"]
    alert = AIUsageAlert.objects.get()
    assert (alert.current_balance, alert.threshold) == (Decimal("9.50"), Decimal("10.00"))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [funded.owner.email]
    assert "running low" in mail.outbox[0].subject


def test_another_low_balance_alert_needs_a_top_up_and_a_fresh_crossing(funded, user):
    credits_charge(business=funded, user=user, feature="customer_insight", credits="15")  # 20 -> 5
    credits_add(business=funded, amount="3", kind="grant")  # 8: still below, no reset
    credits_charge(business=funded, user=user, feature="customer_insight", credits="1")
    assert alerts_of(funded) == ["low_balance"]

    credits_add(business=funded, amount="10", kind="purchase")  # 17: lifted over
    credits_charge(
        business=funded, user=user, feature="customer_insight", credits="10"
    )  # 7: crossed again

    assert alerts_of(funded) == ["low_balance", "low_balance"]


def test_a_released_hold_lifting_the_balance_does_not_rearm_low_balance(funded, user):
    hold = credits_reserve(
        business=funded, user=user, feature="customer_insight", credits="12"
    )  # 8: alert
    credits_release(hold=hold, error_message="provider down")  # back to 20
    credits_charge(business=funded, user=user, feature="customer_insight", credits="12")  # 8 again

    assert alerts_of(funded) == ["low_balance"]


def test_reaching_zero_raises_depleted(funded, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        credits_charge(business=funded, user=user, feature="customer_insight", credits="20")

    assert alerts_of(funded) == ["low_balance", "depleted"]
    assert {m.to[0] for m in mail.outbox} == {funded.owner.email}
    assert len(mail.outbox) == 2


def test_a_refused_charge_raises_no_alert_and_sends_no_mail(
    funded, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientCredits):
        credits_charge(business=funded, user=user, feature="customer_insight", credits="25")

    assert alerts_of(funded) == [] and mail.outbox == []


# --- Holds -------------------------------------------------------------------------------


def test_a_reserve_holds_the_estimate_as_a_pending_transaction(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="product_description")

    assert hold.status == "pending" and hold.credits_held == Decimal("2.50")
    assert stored_balance(funded) == Decimal("17.50") == ledger_sum(funded)


def test_settling_below_the_hold_refunds_the_difference(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")

    usage = credits_settle(
        hold=hold, credits="3.25", tokens_used=900, cost_to_us="0.0123", processing_time_ms=850
    )

    assert (usage.status, usage.credits_used, usage.credits_uncharged) == (
        "completed",
        Decimal("3.25"),
        0,
    )
    assert (usage.tokens_used, usage.processing_time_ms) == (900, 850)
    assert usage.cost_to_us == Decimal("0.0123")
    assert stored_balance(funded) == Decimal("16.75") == ledger_sum(funded)
    kinds = list(
        CreditLedgerEntry.objects.filter(usage=usage).order_by("id").values_list("kind", "amount")
    )
    assert kinds == [("usage", Decimal("-5.00")), ("usage_release", Decimal("1.75"))]


def test_settling_above_the_hold_takes_the_difference_when_the_balance_allows(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")

    usage = credits_settle(hold=hold, credits="6.50")

    assert usage.credits_used == Decimal("6.50") and usage.credits_uncharged == 0
    assert stored_balance(funded) == Decimal("13.50") == ledger_sum(funded)


def test_settling_above_the_hold_caps_at_the_hold_when_the_balance_is_short(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")
    credits_charge(
        business=funded, user=user, feature="customer_insight", credits="14"
    )  # 1.00 left

    usage = credits_settle(hold=hold, credits="7")

    assert usage.credits_used == Decimal("5.00")
    assert usage.credits_uncharged == Decimal("2.00")
    assert stored_balance(funded) == Decimal("1.00") == ledger_sum(funded)


def test_settling_at_zero_cost_returns_the_whole_hold(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")

    usage = credits_settle(hold=hold, credits=0)

    assert usage.credits_used == 0 and usage.status == "completed"
    assert stored_balance(funded) == Decimal("20.00")


def test_releasing_returns_the_hold_and_marks_the_use_failed(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")

    usage = credits_release(hold=hold, error_message="TimeoutError: provider took 30 s")

    assert (usage.status, usage.success, usage.credits_used) == ("released", False, 0)
    assert usage.error_message == "TimeoutError: provider took 30 s"
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)


def test_a_hold_is_settled_or_released_once(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")
    credits_settle(hold=hold, credits="4")

    credits_release(hold=hold, error_message="late error")
    credits_settle(hold=hold, credits="1")

    hold.refresh_from_db()
    assert (hold.status, hold.credits_used) == ("completed", Decimal("4.00"))
    assert stored_balance(funded) == Decimal("16.00") == ledger_sum(funded)


def test_the_context_manager_settles_at_the_reported_cost(funded, user):
    with credits_hold(business=funded, user=user, feature="product_description") as hold:
        hold.report(credits="2.00", tokens_used=450, cost_to_us="0.004")

    usage = hold.usage
    assert (usage.status, usage.credits_used, usage.tokens_used) == (
        "completed",
        Decimal("2.00"),
        450,
    )
    assert usage.processing_time_ms is not None
    assert stored_balance(funded) == Decimal("18.00")


def test_the_context_manager_settles_at_the_estimate_when_nothing_is_reported(funded, user):
    with credits_hold(business=funded, user=user, feature="customer_insight") as hold:
        pass

    assert hold.usage.credits_used == Decimal("2.00")
    assert stored_balance(funded) == Decimal("18.00")


def test_an_exception_inside_the_context_manager_releases_the_hold(funded, user):
    with (
        pytest.raises(TimeoutError),
        credits_hold(business=funded, user=user, feature="product_description") as hold,
    ):
        raise TimeoutError("provider did not answer")

    usage = AITransaction.objects.get(pk=hold.usage.pk)
    assert (usage.status, usage.success) == ("released", False)
    assert usage.error_message == "TimeoutError: provider did not answer"
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)


def test_the_context_manager_refuses_up_front_when_credits_are_short(business, user):
    ran = []

    with (
        pytest.raises(InsufficientCredits),
        credits_hold(business=business, user=user, feature="product_description"),
    ):
        ran.append(True)

    assert ran == [] and not AITransaction.objects.exists()


# --- Regressions from review -------------------------------------------------------------


def _expire_then_top_up(business, user, monkeypatch, hold_credits="5"):
    hold = credits_reserve(
        business=business, user=user, feature="customer_insight", credits=hold_credits
    )
    old = BusinessAICredits.objects.get(business=business)
    later = old.expires_at + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    credits_add(business=business, amount="10", kind="purchase")  # forfeits 15, fresh 10
    return hold


def test_a_hold_released_after_expiry_and_a_top_up_does_not_come_back(funded, user, monkeypatch):
    # Regression: release credited the fresh balance, so the held 5 escaped the expiry (15, not 10).
    hold = _expire_then_top_up(funded, user, monkeypatch)

    usage = credits_release(hold=hold, error_message="provider down")

    assert stored_balance(funded) == Decimal("10.00") == ledger_sum(funded)
    assert usage.status == "released" and "forfeited" in usage.error_message


def test_a_hold_settled_after_expiry_and_a_top_up_returns_nothing(funded, user, monkeypatch):
    hold = _expire_then_top_up(funded, user, monkeypatch)

    usage = credits_settle(hold=hold, credits="1")

    assert stored_balance(funded) == Decimal("10.00") == ledger_sum(funded)
    assert usage.status == "completed" and usage.credits_used == Decimal("5.00")


def test_a_bad_report_inside_the_context_manager_releases_the_hold_at_once(funded, user):
    # Regression: settle raised after the block, leaving the credits held until the cron.
    with (
        pytest.raises(InvalidAmount),
        credits_hold(business=funded, user=user, feature="product_description") as hold,
    ):
        hold.report(credits="1.005")

    usage = AITransaction.objects.get(pk=hold.usage.pk)
    assert usage.status == "released"
    assert stored_balance(funded) == Decimal("20.00") == ledger_sum(funded)


def test_a_settle_that_fails_inside_the_context_manager_releases_the_hold(
    funded, user, monkeypatch
):
    def broken_settle(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("ai_features.credits.billing.credits_settle", broken_settle)

    with (
        pytest.raises(RuntimeError),
        credits_hold(business=funded, user=user, feature="product_description") as hold,
    ):
        pass

    assert AITransaction.objects.get(pk=hold.usage.pk).status == "released"
    assert stored_balance(funded) == Decimal("20.00")


def test_a_settle_after_the_cron_released_the_hold_charges_the_work_afresh(funded, user):
    # Regression: it returned the released row silently, so the finished work was free.
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")
    credits_release(hold=hold, error_message="Hold released: not settled within 15 minutes.")

    usage = credits_settle(hold=hold, credits="4", tokens_used=900)

    assert (usage.status, usage.success, usage.credits_used, usage.tokens_used) == (
        "completed",
        True,
        Decimal("4.00"),
        900,
    )
    assert stored_balance(funded) == Decimal("16.00") == ledger_sum(funded)


def test_a_late_settle_the_balance_cannot_pay_is_recorded_as_uncharged(funded, user):
    hold = credits_reserve(business=funded, user=user, feature="customer_insight", credits="5")
    credits_release(hold=hold, error_message="timed out")
    credits_charge(business=funded, user=user, feature="customer_insight", credits="19")

    usage = credits_settle(hold=hold, credits="4")

    assert (usage.credits_used, usage.credits_uncharged) == (0, Decimal("4.00"))
    assert stored_balance(funded) == Decimal("1.00") == ledger_sum(funded)


def test_an_unknown_feature_is_refused_even_with_an_explicit_amount(funded, user):
    with pytest.raises(UnknownFeature):
        credits_charge(business=funded, user=user, feature="no_such_feature", credits="1")

    assert stored_balance(funded) == Decimal("20.00")


def test_alert_mail_goes_to_the_owner_not_the_member_who_charged(
    funded, django_capture_on_commit_callbacks
):
    from accounts.models import BusinessMembership
    from testing.factories import UserFactory

    funded.email = "shop-desk@example.com"
    funded.save()
    cashier = UserFactory()
    BusinessMembership.objects.create(user=cashier, business=funded, role="staff")

    with django_capture_on_commit_callbacks(execute=True):
        credits_charge(business=funded, user=cashier, feature="customer_insight", credits="15")

    assert [m.to for m in mail.outbox] == [[funded.owner.email]]
    assert funded.owner.email not in (cashier.email, funded.email)


def test_a_failing_alert_email_never_breaks_the_charge(
    funded, user, monkeypatch, django_capture_on_commit_callbacks
):
    def smtp_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("ai_features.credits.alerts.send_mail", smtp_down)

    with django_capture_on_commit_callbacks(execute=True):
        credits_charge(business=funded, user=user, feature="customer_insight", credits="15")

    assert stored_balance(funded) == Decimal("5.00")
    assert alerts_of(funded) == ["low_balance"]
