from decimal import Decimal

import pytest
import requests
from django.contrib import admin as django_admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Model as DjangoModel
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ai_features import models
from ai_features.credits.billing import feature_price_get
from ai_features.credits.grants import credits_grant
from ai_features.models import (
    AICreditPurchase,
    AIFeaturePrice,
    AITransaction,
    AIUsageAlert,
    BusinessAICredits,
    CreditClawback,
    CreditLedgerEntry,
    CreditPackage,
    IdempotencyKey,
    InvalidWebhookCount,
    PurchaseDispute,
    PurchaseRefund,
    UsageDaily,
    UsageRollupState,
    WebhookEvent,
)
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, IdempotencyKeyFactory, PurchaseFactory, UserFactory

pytestmark = pytest.mark.django_db

READ_ONLY = [
    BusinessAICredits,
    AICreditPurchase,
    AITransaction,
    CreditLedgerEntry,
    WebhookEvent,
    PurchaseRefund,
    PurchaseDispute,
    CreditClawback,
    IdempotencyKey,
    InvalidWebhookCount,
    UsageDaily,
    UsageRollupState,
]


def url(model, view="changelist", *args):
    return reverse(f"admin:ai_features_{model._meta.model_name}_{view}", args=args)


def results(response):
    return list(response.context["cl"].result_list)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def world(db):
    """One of everything, for two businesses, so searches and filters have something to drop."""
    kofi = BusinessFactory(name="Kofi Mart")
    ama = BusinessFactory(name="Ama Stores")
    grant = credits_grant(business=kofi, credits=Decimal("40.00"), package="support")
    pending = PurchaseFactory(business=ama)
    usage = AITransaction.objects.create(
        business=kofi, feature="product_description", credits_used=Decimal("2.50"), tokens_used=9
    )
    failed_usage = AITransaction.objects.create(
        business=ama, feature="customer_insight", success=False, error_message="provider down"
    )
    alert = AIUsageAlert.objects.create(
        business=ama, alert_type="low_balance", current_balance=Decimal("3.00")
    )
    AIUsageAlert.objects.create(business=kofi, alert_type="expired", current_balance=0)
    webhook = WebhookEvent.objects.create(
        event="charge.success",
        reference=pending.payment_reference,
        raw_body="{}",
        signature_valid=True,
        outcome="credited",
    )
    WebhookEvent.objects.create(
        event="", reference="", raw_body="junk", outcome="invalid_signature"
    )
    claim = CreditClawback.objects.create(
        purchase=grant, kind="refund", share=Decimal("1.00"), taken=Decimal("1.00")
    )
    refund = PurchaseRefund.objects.create(
        purchase=grant,
        refund_key="refund-1",
        amount=Decimal("1.00"),
        currency="GHS",
        clawback=claim,
    )
    dispute = PurchaseDispute.objects.create(
        purchase=pending,
        gateway="paystack",
        dispute_id="paystack:77",
        amount=Decimal("9.00"),
        currency="GHS",
    )
    key = IdempotencyKeyFactory(
        scope="purchase",
        user=ama.owner,
        business=ama,
        key="idem-key-ama",
        fingerprint="f" * 64,
        purchase=pending,
    )
    feature_key = IdempotencyKeyFactory(
        scope="feature",
        user=kofi.owner,
        business=kofi,
        key="feature-key-kofi",
        feature="customer_insight",
        fingerprint="f" * 64,
        answer={"result": {"summary": "Kofi's customer buys rice"}},
    )
    rolled = UsageDaily.objects.create(
        business=kofi, day=timezone.localdate(), feature="product_description", requests=1
    )
    rolled_state = UsageRollupState.objects.create(business=kofi, through=timezone.localdate())
    invalid_count = InvalidWebhookCount.objects.create(
        remote_addr="203.0.113.9", minute=timezone.now(), received=75, dropped=15
    )
    InvalidWebhookCount.objects.create(remote_addr="198.51.100.1", minute=timezone.now())
    return {
        "invalid_count": invalid_count,
        "feature_key": feature_key,
        "kofi": kofi,
        "ama": ama,
        "grant": grant,
        "pending": pending,
        "usage": usage,
        "failed_usage": failed_usage,
        "alert": alert,
        "webhook": webhook,
        "refund": refund,
        "claim": claim,
        "dispute": dispute,
        "key": key,
        "rolled": rolled,
        "rolled_state": rolled_state,
    }


# --- every model is registered ---------------------------------------------------------------


def test_every_model_of_the_app_is_registered():
    from django.apps import apps

    for model in apps.get_app_config("ai_features").get_models():
        assert django_admin.site.is_registered(model), model.__name__


# --- changelists: data, search and filters ---------------------------------------------------

SEARCHES = [
    # model, query, what must be found (as a function of the world)
    (CreditPackage, "premium", lambda w: {CreditPackage.objects.get(code="premium")}),
    (AIFeaturePrice, "insight", lambda w: {AIFeaturePrice.objects.get(feature="customer_insight")}),
    (BusinessAICredits, "Kofi", lambda w: {BusinessAICredits.objects.get(business=w["kofi"])}),
    (AICreditPurchase, "Ama", lambda w: {w["pending"]}),
    (AITransaction, "Kofi", lambda w: {w["usage"]}),
    (AITransaction, "insight", lambda w: {w["failed_usage"]}),
    (AIUsageAlert, "Ama", lambda w: {w["alert"]}),
    (CreditLedgerEntry, "Kofi", lambda w: set(CreditLedgerEntry.objects.all())),
    (WebhookEvent, "AI-CREDIT", lambda w: {w["webhook"]}),
    (PurchaseRefund, "AI-CREDIT", lambda w: {w["refund"]}),
    (PurchaseDispute, "paystack:77", lambda w: {w["dispute"]}),
    (CreditClawback, "AI-CREDIT", lambda w: {w["claim"]}),
    (IdempotencyKey, "idem-key", lambda w: {w["key"]}),
    (IdempotencyKey, "feature-key", lambda w: {w["feature_key"]}),
    (InvalidWebhookCount, "203.0.113.9", lambda w: {w["invalid_count"]}),
    (UsageDaily, "Kofi", lambda w: {w["rolled"]}),
    (UsageRollupState, "Kofi", lambda w: {w["rolled_state"]}),
]


@pytest.mark.parametrize(
    "model", list(dict.fromkeys(m for m, *_ in SEARCHES)), ids=lambda m: m.__name__
)
def test_each_changelist_loads_with_its_data(admin_client, world, model):
    response = admin_client.get(url(model))

    assert response.status_code == 200
    assert set(results(response)) == set(model.objects.all())
    assert results(response), "the world should hold rows of every model"


@pytest.mark.parametrize(
    "model, query, expected", SEARCHES, ids=[f"{m.__name__}-{q}" for m, q, _ in SEARCHES]
)
def test_each_changelist_searches(admin_client, world, model, query, expected):
    response = admin_client.get(url(model), {"q": query})

    assert response.status_code == 200
    assert set(results(response)) == expected(world)


def test_a_purchase_is_found_by_its_exact_reference(admin_client, world):
    reference = world["grant"].payment_reference

    response = admin_client.get(url(AICreditPurchase), {"q": reference})

    assert results(response) == [world["grant"]]


def test_a_ledger_entry_is_found_by_its_purchase_reference(admin_client, world):
    response = admin_client.get(url(CreditLedgerEntry), {"q": world["grant"].payment_reference})

    assert [e.purchase for e in results(response)] == [world["grant"]]


FILTERS = [
    (CreditPackage, {"is_active__exact": "1"}, lambda w: set(CreditPackage.objects.all())),
    (BusinessAICredits, {"is_active__exact": "1"}, lambda w: set(BusinessAICredits.objects.all())),
    (AICreditPurchase, {"payment_status__exact": "pending"}, lambda w: {w["pending"]}),
    (AICreditPurchase, {"payment_method__exact": "admin_grant"}, lambda w: {w["grant"]}),
    (AICreditPurchase, {"package": "support"}, lambda w: {w["grant"]}),
    (AITransaction, {"success__exact": "0"}, lambda w: {w["failed_usage"]}),
    (AITransaction, {"feature": "product_description"}, lambda w: {w["usage"]}),
    (AITransaction, {"status__exact": "completed"}, lambda w: {w["usage"], w["failed_usage"]}),
    (AIUsageAlert, {"alert_type__exact": "low_balance"}, lambda w: {w["alert"]}),
    (AIUsageAlert, {"acknowledged__exact": "1"}, lambda w: set()),
    (CreditLedgerEntry, {"kind__exact": "grant"}, lambda w: set(CreditLedgerEntry.objects.all())),
    (CreditLedgerEntry, {"kind__exact": "usage"}, lambda w: set()),
    (WebhookEvent, {"outcome__exact": "credited"}, lambda w: {w["webhook"]}),
    (
        WebhookEvent,
        {"signature_valid__exact": "0"},
        lambda w: set(WebhookEvent.objects.filter(signature_valid=False)),
    ),
    (WebhookEvent, {"event": "charge.success"}, lambda w: {w["webhook"]}),
]


@pytest.mark.parametrize(
    "model, params, expected",
    FILTERS,
    ids=[f"{m.__name__}-{next(iter(p))}" for m, p, _ in FILTERS],
)
def test_each_changelist_filters(admin_client, world, model, params, expected):
    response = admin_client.get(url(model), params)

    assert response.status_code == 200  # an unknown filter would redirect with ?e=1
    assert set(results(response)) == expected(world)


def test_a_search_and_a_filter_combine(admin_client, world):
    PurchaseFactory(business=world["kofi"])

    response = admin_client.get(
        url(AICreditPurchase), {"q": "Kofi", "payment_status__exact": "pending"}
    )

    assert [p.business for p in results(response)] == [world["kofi"]]


@pytest.mark.parametrize("model", [AICreditPurchase, CreditLedgerEntry, AITransaction])
def test_changelists_do_not_query_once_per_row(admin_client, world, model):
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url(model))
    for _ in range(5):
        business = BusinessFactory()
        credits_grant(business=business, credits=1, package="support")
        AITransaction.objects.create(business=business, feature="customer_insight")
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url(model))

    assert len(many.captured_queries) == len(few.captured_queries)


# --- read-only records -----------------------------------------------------------------------


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_read_only_records_cannot_be_added(admin_client, world, model):
    count = model.objects.count()

    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {}).status_code == 403
    assert model.objects.count() == count


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_read_only_records_can_be_viewed_but_not_changed_or_deleted(admin_client, world, model):
    obj = model.objects.order_by("pk").first()
    before = model.objects.values().get(pk=obj.pk)

    view = admin_client.get(url(model, "change", obj.pk))
    change = admin_client.post(url(model, "change", obj.pk), {"_save": "Save"})
    delete = admin_client.post(url(model, "delete", obj.pk), {"post": "yes"})

    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert change.status_code == 403
    assert delete.status_code == 403
    assert model.objects.values().get(pk=obj.pk) == before


def test_a_balance_cannot_be_edited_from_the_changelist_either(admin_client, world):
    row = BusinessAICredits.objects.get(business=world["kofi"])

    response = admin_client.get(url(BusinessAICredits))
    posted = admin_client.post(
        url(BusinessAICredits),
        {"action": "delete_selected", "_selected_action": [row.pk], "index": 0, "post": "yes"},
    )

    assert response.context["cl"].formset is None
    assert posted.status_code == 200  # the action is not offered: the list comes back
    assert BusinessAICredits.objects.filter(pk=row.pk, balance=Decimal("40.00")).exists()
    assert stored_balance(world["kofi"]) == ledger_sum(world["kofi"])


def test_a_purchase_change_post_cannot_rewrite_its_money_or_status(admin_client, world):
    pending = world["pending"]

    response = admin_client.post(
        url(AICreditPurchase, "change", pending.pk),
        {"payment_status": "completed", "total_amount": "0.00", "credits_purchased": "9999"},
    )

    pending.refresh_from_db()
    assert response.status_code == 403
    assert pending.payment_status == "pending"
    assert pending.credits_purchased == Decimal("80.00")


# --- editable configuration ------------------------------------------------------------------


def test_a_package_can_be_added_and_edited(admin_client):
    response = admin_client.post(
        url(CreditPackage, "add"),
        {
            "code": "mega",
            "name": "Mega",
            "description": "",
            "price": "500.00",
            "currency": "GHS",
            "credits": "500",
            "bonus_credits": "250",
            "is_active": "on",
            "display_order": "9",
        },
    )

    assert response.status_code == 302
    mega = CreditPackage.objects.get(code="mega")
    assert (mega.price, mega.total_credits) == (Decimal("500.00"), Decimal("750.00"))


def test_a_feature_price_edit_takes_effect_at_once_in_this_process(admin_client):
    price = AIFeaturePrice.objects.get(feature="customer_insight")
    assert feature_price_get("customer_insight") == Decimal("2.00")  # now cached

    response = admin_client.post(
        url(AIFeaturePrice, "change", price.pk),
        {"feature": "customer_insight", "credits": "3.25", "description": "", "is_active": "on"},
    )

    assert response.status_code == 302
    assert feature_price_get("customer_insight") == Decimal("3.25")


def test_an_alert_can_only_be_acknowledged(admin_client, world):
    alert = world["alert"]

    response = admin_client.post(
        url(AIUsageAlert, "change", alert.pk),
        {
            "acknowledged": "on",
            "current_balance": "999.00",
            "alert_type": "expired",
            "business": world["kofi"].pk,
        },
    )

    alert.refresh_from_db()
    assert response.status_code == 302
    assert alert.acknowledged is True
    assert alert.current_balance == Decimal("3.00")
    assert alert.alert_type == "low_balance"
    assert alert.business == world["ama"]
    assert admin_client.get(url(AIUsageAlert, "add")).status_code == 403
    assert (
        admin_client.post(url(AIUsageAlert, "delete", alert.pk), {"post": "yes"}).status_code == 403
    )


# --- the re-check action ---------------------------------------------------------------------


def recheck(client, purchases):
    return client.post(
        url(AICreditPurchase),
        {
            "action": "recheck_with_gateway",
            "_selected_action": [p.pk for p in purchases],
            "index": 0,
            "select_across": 0,
        },
        follow=True,
    )


def test_recheck_credits_a_pending_purchase_paystack_says_is_paid(admin_client, paystack):
    business = BusinessFactory()
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference)

    response = recheck(admin_client, [purchase])

    purchase.refresh_from_db()
    assert response.status_code == 200
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == ledger_sum(business) == Decimal("100.00")
    assert CreditLedgerEntry.objects.filter(purchase=purchase, kind="purchase").count() == 1
    assert len(paystack.calls_to(f"/transaction/verify/{purchase.payment_reference}")) == 1
    assert any(
        "Credited 1 purchase" in t and purchase.payment_reference in t for t in texts(response)
    )


def test_recheck_leaves_a_completed_purchase_alone_and_says_so(admin_client, paystack):
    business = BusinessFactory()
    done = credits_grant(business=business, credits=10, package="support")

    response = recheck(admin_client, [done])

    done.refresh_from_db()
    assert done.payment_status == "completed"
    assert stored_balance(business) == ledger_sum(business) == Decimal("10.00")
    assert CreditLedgerEntry.objects.filter(business=business).count() == 1
    assert paystack.calls_to("/transaction/verify/") == []
    assert any("Skipped 1" in t and done.payment_reference in t for t in texts(response))


def test_recheck_credits_a_failed_purchase_paystack_now_says_is_paid(admin_client, paystack):
    business = BusinessFactory()
    purchase = PurchaseFactory(business=business, status="failed", failure_reason="timed out")
    paystack.verify(purchase.payment_reference)

    recheck(admin_client, [purchase])

    purchase.refresh_from_db()
    assert purchase.payment_status == "completed"
    assert stored_balance(business) == ledger_sum(business) == Decimal("100.00")


def test_recheck_reports_a_paystack_outage_and_keeps_the_purchase_pending(admin_client, paystack):
    business = BusinessFactory()
    down = PurchaseFactory(business=business)
    paid = PurchaseFactory(business=business)
    paystack.mock.get(
        f"{paystack.base}/transaction/verify/{down.payment_reference}",
        body=requests.exceptions.ConnectionError(),
    )
    paystack.verify(paid.payment_reference)

    response = recheck(admin_client, [down, paid])

    down.refresh_from_db()
    paid.refresh_from_db()
    assert response.status_code == 200
    assert down.payment_status == "pending"
    assert not CreditLedgerEntry.objects.filter(purchase=down).exists()
    assert paid.payment_status == "completed"  # one outage does not stop the rest
    assert stored_balance(business) == ledger_sum(business) == Decimal("100.00")
    messages = get_messages(response.wsgi_request)
    errors = [str(m) for m in messages if m.level_tag == "error"]
    assert len(errors) == 1
    assert down.payment_reference in errors[0] and "could not be reached" in errors[0]


def test_recheck_reports_a_still_pending_payment_without_crediting(admin_client, paystack):
    business = BusinessFactory()
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference, status="ongoing")

    response = recheck(admin_client, [purchase])

    purchase.refresh_from_db()
    assert purchase.payment_status == "pending"
    assert stored_balance(business) == Decimal("0.00")
    assert any(
        t.startswith("Pending:") and purchase.payment_reference in t for t in texts(response)
    )


def test_staff_without_the_change_purchase_right_cannot_recheck(client, paystack):
    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_aicreditpurchase"))
    client.force_login(staff)
    business = BusinessFactory()
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference)

    listing = client.get(url(AICreditPurchase))
    recheck(client, [purchase])

    purchase.refresh_from_db()
    assert listing.status_code == 200
    assert listing.context["action_form"] is None
    assert purchase.payment_status == "pending"
    assert paystack.calls_to("/transaction/verify/") == []


def test_the_models_module_is_fully_covered_by_this_test_file():
    """A new model must get an admin (and a row in the lists above)."""
    covered = {m for m, *_ in SEARCHES} | set(READ_ONLY)
    declared = {
        obj
        for obj in vars(models).values()
        if isinstance(obj, type)
        and issubclass(obj, DjangoModel)
        and obj._meta.app_label == "ai_features"
        and not obj._meta.abstract
    }
    assert declared <= covered


def test_a_stored_feature_answer_is_not_shown_to_support(admin_client, world):
    page = admin_client.get(url(IdempotencyKey, "change", world["feature_key"].pk))

    assert page.status_code == 200
    assert b"feature-key-kofi" in page.content
    assert b"buys rice" not in page.content
