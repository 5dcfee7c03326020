from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import CommandError
from django.utils import timezone

from ai_features.credits.alerts import alert_raise
from ai_features.credits.billing import credits_charge, credits_reserve
from ai_features.credits.grants import credits_grant
from ai_features.credits.reset import reset_models
from ai_features.credits.rollup import usage_rollup_build
from ai_features.management.tests.helpers import command_output
from ai_features.models import (
    AICreditPurchase,
    AIFeaturePrice,
    AITransaction,
    BusinessAICredits,
    CreditLedgerEntry,
    CreditPackage,
    PurchaseRefund,
    WebhookEvent,
)
from ai_features.payments.disputes import DisputeReport, purchase_dispute_open
from ai_features.payments.fulfilment import purchase_fulfil
from ai_features.payments.gateways.paystack import paystack_verdict
from ai_features.payments.refunds import purchase_refund_apply
from ai_features.payments.webhooks import webhook_receive
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, IdempotencyKeyFactory, PurchaseFactory
from testing.paystack_api import charge_success_body

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    return command_output("setup_ai_credits", *args)


def test_without_flags_it_prints_the_packages_table():
    out = run()

    lines = out.splitlines()
    assert " ".join(lines[0].split()) == "code name price credits bonus total savings active"
    assert " ".join(lines[3].split()) == "value Value 80.00 GHS 80.00 20.00 100.00 25% yes"
    assert "premium" in lines[4] and "39%" in lines[4]


def test_list_businesses_shows_balance_expiry_and_active_flag():
    rich = BusinessFactory(name="Rich Shop")
    BusinessFactory(name="New Shop")
    credits_grant(business=rich, credits=12, package="test")

    lines = run("--list-businesses").splitlines()

    assert lines[0].split() == ["id", "business", "owner", "balance", "expires", "active"]
    rich_line = next(line for line in lines if "Rich Shop" in line)
    new_line = next(line for line in lines if "New Shop" in line)
    assert "12.00" in rich_line and rich_line.rstrip().endswith("yes")
    assert "0.00" in new_line and " - " in new_line and new_line.rstrip().endswith("no")


def test_list_businesses_is_one_query_however_many_businesses(django_assert_num_queries):
    """Regression: it read each business's balance with a query of its own (1 + N)."""
    for number in range(5):
        shop = BusinessFactory(name=f"Shop {number}")
        credits_grant(business=shop, credits=number + 1, package="test")
    expired = BusinessFactory(name="Expired Shop")
    credits_grant(business=expired, credits=3, package="test")
    BusinessAICredits.objects.filter(business=expired).update(is_active=False, balance=0)

    with django_assert_num_queries(1):
        lines = run("--list-businesses").splitlines()

    expired_line = next(line for line in lines if "Expired Shop" in line)
    assert "0.00" in expired_line and " - " not in expired_line  # its past expiry date
    assert expired_line.rstrip().endswith("no")
    assert "5.00" in next(line for line in lines if "Shop 4" in line)


@pytest.mark.parametrize(
    ("flag", "package", "total"),
    [
        ("--grant-test", "test", Decimal("50")),
        ("--grant-starter", "starter", Decimal("30")),
        ("--grant-value", "value", Decimal("100")),
        ("--grant-premium", "premium", Decimal("250")),
    ],
)
def test_each_grant_flag_grants_to_every_business(flag, package, total):
    shops = [BusinessFactory(), BusinessFactory()]

    out = run(flag)

    for shop in shops:
        assert stored_balance(shop) == total == ledger_sum(shop)
        purchase = AICreditPurchase.objects.get(business=shop)
        assert (purchase.package, purchase.payment_method, purchase.payment_status) == (
            package,
            "admin_grant",
            "completed",
        )
        assert purchase.amount_paid == 0 and purchase.total_credits == total
        assert purchase.payment_reference in out


def test_the_grant_table_shows_each_balance_and_its_new_expiry():
    """Issue 19 item 14: the grant restarts the expiry clock, and the table did not say to when."""
    shop = BusinessFactory(name="Granted Shop")

    lines = run("--grant-test").splitlines()

    assert lines[0].split() == ["id", "business", "granted", "reference", "balance", "expires"]
    row = BusinessAICredits.objects.get(business=shop, is_active=True)
    shop_line = next(line for line in lines if "Granted Shop" in line)
    expires = row.expires_at.strftime("%Y-%m-%d %H:%M")
    assert shop_line.split()[-3:] == ["50.00", *expires.split()]  # the balance, then its expiry


def test_grant_value_for_one_business_raises_it_by_100_with_ledger_and_purchase():
    target, bystander = BusinessFactory(), BusinessFactory()
    credits_grant(business=target, credits=50, package="test")

    run("--grant-value", "--business-id", str(target.id))

    assert stored_balance(target) == Decimal("150.00") == ledger_sum(target)
    entry = CreditLedgerEntry.objects.filter(business=target).latest("id")
    assert (entry.kind, entry.amount, entry.purchase.package) == ("grant", 100, "value")
    assert entry.purchase.payment_method == "admin_grant"
    assert stored_balance(bystander) == 0 and not CreditLedgerEntry.objects.filter(
        business=bystander
    )


def test_an_unknown_business_id_is_a_command_error_and_grants_nothing():
    BusinessFactory()

    with pytest.raises(CommandError, match="No business with id 999999"):
        run("--grant-test", "--business-id", "999999")

    assert not CreditLedgerEntry.objects.exists()


def test_business_id_alone_is_a_command_error():
    shop = BusinessFactory()

    with pytest.raises(CommandError, match="goes with"):
        run("--business-id", str(shop.id))


def test_two_grant_flags_at_once_are_refused():
    with pytest.raises(CommandError):
        run("--grant-test", "--grant-value")


def test_granting_an_inactive_package_still_uses_its_credits():
    CreditPackage.objects.filter(code="starter").update(is_active=False)
    shop = BusinessFactory()

    run("--grant-starter")

    assert stored_balance(shop) == Decimal("30.00")


def _seed_every_model():
    """A row in every ai_features table, linked the way the services link them: a refund and
    usage transactions hold PROTECT references that a careless reset trips over."""
    shop = BusinessFactory()
    owner = shop.owner
    credits_grant(business=shop, credits=50, package="test")
    paid = PurchaseFactory(business=shop)
    data = {"status": "success", "reference": paid.payment_reference, "currency": "GHS"}
    verdict = paystack_verdict({**data, "amount": 9400})
    purchase_fulfil(purchase_id=paid.pk, verdict=verdict, source="test")
    purchase_refund_apply(purchase_id=paid.pk, data={"id": 1, "amount": 4700, "currency": "GHS"})
    report = DisputeReport(dispute_id="paystack:1", amount=Decimal("9.40"), currency="GHS")
    purchase_dispute_open(purchase_id=paid.pk, report=report)  # a dispute and its claim
    credits_charge(business=shop, user=owner, feature="product_description")  # ledger -> usage
    hold = credits_reserve(business=shop, user=owner, feature="customer_insight")  # a hold
    IdempotencyKeyFactory(
        scope="feature",
        user=owner,
        business=shop,
        key="f-1",
        feature="customer_insight",
        fingerprint="f",
        answer={"result": {}},
        usage=hold,
    )
    alert_raise(business_id=shop.pk, alert_type="low_balance", balance=Decimal("1"))
    calls = AITransaction.objects.filter(business=shop).exclude(status="pending")
    calls.update(timestamp=timezone.now() - timedelta(days=1))
    usage_rollup_build()  # the daily rollup and how far it goes
    IdempotencyKeyFactory(
        scope="purchase", user=owner, business=shop, key="k-1", fingerprint="f", purchase=paid
    )
    webhook_receive(
        gateway="paystack",
        raw_body=charge_success_body(paid.payment_reference, 9400),
        headers={},
    )
    return shop


def _rows() -> dict:
    return {
        model: model.objects.count() for model in apps.get_app_config("ai_features").get_models()
    }


def test_the_reset_seed_covers_every_model_reset_deletes():
    _seed_every_model()

    empty = [model.__name__ for model in reset_models() if not model.objects.exists()]

    assert not empty, (
        f"seed these in _seed_every_model, so --reset is proven to clear them: {empty}"
    )


def test_reset_deletes_every_ai_credit_table_in_order_but_keeps_configuration():
    """Regression: with a refund present the reset died with ProtectedError, and it left
    webhook deliveries and idempotency keys behind."""
    shop = _seed_every_model()
    before = _rows()

    out = run("--reset", "--yes")

    after = _rows()
    for model in apps.get_app_config("ai_features").get_models():
        if model in (CreditPackage, AIFeaturePrice):  # configuration: kept, as documented
            assert after[model] == before[model] > 0, model
        else:
            assert after[model] == 0, model
    shop.refresh_from_db()  # businesses and users are not AI-credit data
    assert f"{before[PurchaseRefund]} purchase refunds" in out
    assert f"{before[WebhookEvent]} webhook events" in out
    assert f"{before[CreditLedgerEntry]} credit ledger entries" in out


def test_reset_asks_and_proceeds_on_the_typed_word(monkeypatch):
    _seed_every_model()
    monkeypatch.setattr("builtins.input", lambda: "reset")

    out = run("--reset")

    assert "Type 'reset' to confirm" in out
    assert "purchase refunds" in out and "Packages and feature prices" in out
    assert not CreditLedgerEntry.objects.exists() and not PurchaseRefund.objects.exists()


@pytest.mark.parametrize("answer", ["", "yes", "RESET "])
def test_reset_without_the_typed_word_deletes_nothing(monkeypatch, answer):
    _seed_every_model()
    before = _rows()
    monkeypatch.setattr("builtins.input", lambda: answer)

    with pytest.raises(CommandError, match="aborted"):
        run("--reset")

    assert _rows() == before


def test_reset_without_a_terminal_deletes_nothing(monkeypatch):
    _seed_every_model()
    before = _rows()

    def no_stdin():
        raise EOFError

    monkeypatch.setattr("builtins.input", no_stdin)

    with pytest.raises(CommandError, match="aborted"):
        run("--reset")

    assert _rows() == before


def test_reset_puts_a_model_before_every_model_it_points_at():
    order = reset_models()

    for model in order:
        for field in model._meta.concrete_fields:
            if (
                field.is_relation
                and field.related_model in order
                and field.related_model is not model
            ):
                assert order.index(model) < order.index(field.related_model), (model, field)
