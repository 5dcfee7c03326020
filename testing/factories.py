"""factory_boy factories for the rows tests start from: users, businesses (with the owner's
membership) and purchases as the purchase endpoint leaves them, priced by the real quote code."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from accounts.models import Business, BusinessMembership
from ai_features.models import AICreditPurchase, CreditPackage, IdempotencyKey

PASSWORD = "pw-Str0ng-enough"


class UserFactory(DjangoModelFactory):
    """A user with a usable password (`PASSWORD` unless given)."""

    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n + 1}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **fields):
        # create_user hashes the password, as sign-up does.
        return model_class.objects.create_user(*args, **fields)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = BusinessMembership

    user = factory.SubFactory(UserFactory)
    role = BusinessMembership.Role.OWNER


class BusinessFactory(DjangoModelFactory):
    """A business and its owner's membership (`role` of the owner, "owner" unless given)."""

    class Meta:
        model = Business
        skip_postgeneration_save = True

    class Params:
        role = BusinessMembership.Role.OWNER

    name = factory.Sequence(lambda n: f"Shop {n + 1}")
    owner = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda business: business.owner.email)
    membership = factory.RelatedFactory(
        MembershipFactory,
        factory_related_name="business",
        user=factory.SelfAttribute("..owner"),
        role=factory.SelfAttribute("..role"),
    )


def _quote(purchase, gateway: str):
    from ai_features.payments.packages import purchase_quote

    return purchase_quote(
        package=purchase.package, custom_amount=purchase.custom_amount, gateway=gateway
    )


class PurchaseFactory(DjangoModelFactory):
    """A Paystack purchase as the purchase endpoint leaves it: `package` is the package's code
    (or None with a `custom_amount`), `status` its payment status."""

    class Meta:
        model = AICreditPurchase
        rename = {"package_row": "package", "status": "payment_status"}

    class Params:
        package = "value"
        custom_amount = None
        quote = factory.LazyAttribute(lambda purchase: _quote(purchase, "paystack"))

    business = factory.SubFactory(BusinessFactory)
    user = factory.LazyAttribute(lambda purchase: purchase.business.owner)
    package_row = factory.LazyAttribute(lambda purchase: purchase.quote.package)
    amount_paid = factory.LazyAttribute(lambda purchase: purchase.quote.invoice.base_amount)
    total_tax = factory.LazyAttribute(lambda purchase: purchase.quote.invoice.total_tax)
    total_amount = factory.LazyAttribute(lambda purchase: purchase.quote.invoice.total_amount)
    currency = factory.LazyAttribute(lambda purchase: purchase.quote.invoice.currency)
    credits_purchased = factory.LazyAttribute(lambda purchase: purchase.quote.credits)
    bonus_credits = factory.LazyAttribute(lambda purchase: purchase.quote.bonus_credits)
    payment_method = AICreditPurchase.PaymentMethod.MOBILE_MONEY
    status = AICreditPurchase.PaymentStatus.PENDING

    @classmethod
    def _create(cls, model_class, *args, **fields):
        # The reference comes from the real code, as every purchase's does.
        from ai_features.payments.purchases import purchase_create

        return purchase_create(**fields)


def _stripe_quote(purchase):
    from testing.stripe_api import stripe_priced

    if CreditPackage.objects.get(code=purchase.package).stripe_price is None:
        stripe_priced(purchase.package)
    return _quote(purchase, "stripe")


class StripePurchaseFactory(PurchaseFactory):
    """A Stripe purchase as the purchase endpoint leaves it: priced in the Stripe currency
    (the package gets the demo's Stripe price if it has none), with the Checkout Session id
    Stripe gave it."""

    class Params:
        quote = factory.LazyAttribute(_stripe_quote)

    gateway = AICreditPurchase.Gateway.STRIPE
    payment_method = AICreditPurchase.PaymentMethod.CARD
    checkout_session_id = factory.Sequence(
        lambda n: f"cs_test_{n + 1:04d}a11YYufWQzNY63zpQ6QSNRQhkUpVph"
    )
    gateway_status = "initialized"


class IdempotencyKeyFactory(DjangoModelFactory):
    """An `Idempotency-Key` row as a request leaves it, a feature call's unless `scope` says
    otherwise (a feature key names its feature; a purchase key names none)."""

    class Meta:
        model = IdempotencyKey

    scope = IdempotencyKey.Scope.FEATURE
    business = factory.SubFactory(BusinessFactory)
    user = factory.LazyAttribute(lambda row: row.business.owner)
    key = factory.Sequence(lambda n: f"key-{n + 1}")
    fingerprint = "0" * 64
    feature = factory.LazyAttribute(
        lambda row: "product_description" if row.scope == IdempotencyKey.Scope.FEATURE else ""
    )
