from decimal import Decimal
from io import StringIO

import pytest
import responses
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import Business
from ai_features.management.commands.setup_demo import DEMO_STRIPE_PRICES
from ai_features.models import CreditPackage
from sandbox.stripe.in_process import InProcessHTTP
from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct
from sandbox.stripe.tests.helpers import API_BASE, STRIPE_KEY, URLS
from testing.credits import stored_balance

pytestmark = pytest.mark.django_db


def run():
    out = StringIO()
    call_command("setup_demo", stdout=out)
    return out.getvalue()


def test_creates_demo_shop_with_50_credits_and_prints_a_working_curl_line(client):
    out = run()

    shop = Business.objects.get(name="Demo Shop")
    token = Token.objects.get(user=shop.owner)
    assert stored_balance(shop) == Decimal("50.00")
    assert f"API token: {token.key}" in out
    assert (
        f'curl -H "Authorization: Token {token.key}" http://127.0.0.1:8000/ai/api/credits/balance/'
        in out
    )
    response = client.get("/ai/api/credits/balance/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["balance"] == 50


def test_running_again_reuses_the_shop_and_grants_nothing_more():
    first = run()
    second = run()

    assert Business.objects.filter(name="Demo Shop").count() == 1
    assert stored_balance(Business.objects.get(name="Demo Shop")) == Decimal("50.00")
    token_line = [line for line in first.splitlines() if line.startswith("API token")]
    assert token_line and token_line[0] in second


def test_with_the_sandbox_on_it_points_at_the_demo_page(settings):
    settings.SANDBOX = True

    out = run()

    assert "http://127.0.0.1:8000/demo/" in out and "'demo'" in out


def test_with_the_sandbox_off_it_does_not_mention_the_demo_page():
    assert "/demo/" not in run()


@pytest.fixture
def stripe_sandbox(settings):
    """Stripe configured as `make run` configures it: the local stand-in, reached in-process."""
    settings.SANDBOX = True
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_API_BASE = API_BASE
    settings.STRIPE_CURRENCY = "USD"
    return settings


@pytest.mark.urls(URLS)
def test_with_the_stripe_sandbox_packages_get_demo_usd_prices_and_synced_ids(stripe_sandbox):
    out = run()

    for code, amount in DEMO_STRIPE_PRICES.items():
        package = CreditPackage.objects.get(code=code)
        price = StripeSandboxPrice.objects.get(stripe_id=package.stripe_price_id)
        assert package.stripe_price == amount
        assert price.product.stripe_id == package.stripe_product_id
        assert (price.unit_amount, price.currency) == (int(amount * 100), "usd")
    assert (
        "Gave packages demo Stripe prices in USD: starter 2.50, value 6.50, premium 14.50." in out
    )
    assert "through the local Stripe sandbox: starter 2.50, value 6.50, premium 14.50" in out


@pytest.mark.urls(URLS)
def test_running_again_keeps_prices_set_by_hand_and_creates_nothing_more(stripe_sandbox):
    CreditPackage.objects.filter(code="value").update(stripe_price=Decimal("7.00"))
    run()
    ids = list(CreditPackage.objects.values_list("stripe_product_id", "stripe_price_id"))

    out = run()

    assert CreditPackage.objects.get(code="value").stripe_price == Decimal("7.00")
    assert (
        StripeSandboxPrice.objects.get(
            stripe_id=CreditPackage.objects.get(code="value").stripe_price_id
        ).unit_amount
        == 700
    )
    assert list(CreditPackage.objects.values_list("stripe_product_id", "stripe_price_id")) == ids
    assert (StripeSandboxProduct.objects.count(), StripeSandboxPrice.objects.count()) == (3, 3)
    assert "Gave packages" not in out and "(0 of 3 products or prices" in out


@pytest.mark.urls(URLS)
def test_a_failed_sync_is_reported_and_the_demo_still_starts(stripe_sandbox, monkeypatch):
    def refuse(self, method, url, headers, post_data=None, *, _usage=None):
        return b'{"error": {"type": "api_error", "message": "down"}}', 500, {}

    monkeypatch.setattr(InProcessHTTP, "request", refuse)
    err = StringIO()

    call_command("setup_demo", stdout=StringIO(), stderr=err)

    assert "Stripe failed while syncing package 'starter'" in err.getvalue()
    assert "setup_stripe_credit_products" in err.getvalue()
    assert Business.objects.filter(name="Demo Shop").exists()
    assert CreditPackage.objects.get(code="starter").stripe_price == Decimal("2.50")


def test_with_a_real_stripe_account_it_gives_prices_but_leaves_the_catalogue_to_ops(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_someone_elses_account"
    settings.STRIPE_API_BASE = "https://api.stripe.com"

    with responses.RequestsMock():  # any call to Stripe would fail the test
        out = run()

    assert CreditPackage.objects.get(code="premium").stripe_price == Decimal("14.50")
    assert not CreditPackage.objects.exclude(stripe_price_id="").exists()
    assert "Stripe is https://api.stripe.com: create the packages' products" in out


def test_without_stripe_no_package_gets_a_stripe_price(settings):
    settings.STRIPE_SECRET_KEY = ""

    out = run()

    assert not CreditPackage.objects.filter(stripe_price__isnull=False).exists()
    assert "Stripe" not in out
