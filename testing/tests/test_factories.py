"""The factories build rows as the real code would."""

from decimal import Decimal

import pytest

from accounts.models import BusinessMembership
from ai_features.models import CreditPackage
from testing.factories import (
    PASSWORD,
    BusinessFactory,
    IdempotencyKeyFactory,
    PurchaseFactory,
    StripePurchaseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_user_can_sign_in_with_the_factory_password():
    user = UserFactory(username="ama")

    assert user.check_password(PASSWORD)
    assert user.email == "ama@example.com"


def test_a_business_comes_with_its_owner_membership_in_the_role_asked_for():
    owner = UserFactory()

    shop = BusinessFactory(owner=owner)
    managed = BusinessFactory(role="admin")

    assert shop.owner == owner and shop.email == owner.email
    assert BusinessMembership.objects.get(business=shop).role == "owner"
    assert BusinessMembership.objects.get(business=managed, user=managed.owner).role == "admin"


def test_a_purchase_is_priced_by_the_quote_and_gets_a_reference():
    purchase = PurchaseFactory(package="starter", status="failed")

    assert purchase.package == "starter"
    assert purchase.payment_status == "failed"
    assert purchase.user == purchase.business.owner
    assert purchase.payment_reference.startswith("AI-CREDIT-")
    assert purchase.total_amount == purchase.amount_paid + purchase.total_tax
    assert purchase.currency == "GHS"


def test_a_stripe_purchase_is_priced_in_the_stripe_currency_with_a_session_id():
    purchase = StripePurchaseFactory()

    assert purchase.gateway == "stripe" and purchase.payment_method == "card"
    assert purchase.currency == "USD"
    assert CreditPackage.objects.get(code="value").stripe_price == Decimal("6.50")
    assert purchase.checkout_session_id.startswith("cs_test_")
    assert StripePurchaseFactory().checkout_session_id != purchase.checkout_session_id


def test_an_idempotency_key_fits_the_checks_of_its_scope():
    feature_key = IdempotencyKeyFactory()
    purchase_key = IdempotencyKeyFactory(scope="purchase")

    assert feature_key.feature == "product_description"
    assert feature_key.user == feature_key.business.owner
    assert purchase_key.feature == "" and purchase_key.key != feature_key.key
