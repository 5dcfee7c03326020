from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Business
from accounts.services import business_register
from ai_features.credits.credits import balance_get
from ai_features.credits.grants import credits_grant
from ai_features.management.commands.setup_ai_credits import TEST_GRANT
from ai_features.payments.gateways.stripe import StripeService
from ai_features.payments.stripe_catalogue import (
    CatalogueSyncFailed,
    catalogue_sync,
    stripe_prices_fill,
)

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_BUSINESS = "Demo Shop"
# The GHS prices (30, 80, 180) at about 12 cedis to the dollar, rounded to a half dollar.
DEMO_STRIPE_PRICES = {
    "starter": Decimal("2.50"),
    "value": Decimal("6.50"),
    "premium": Decimal("14.50"),
}


def local_stripe_standin():
    """The sandbox's in-process way to its Stripe stand-in when STRIPE_API_BASE is that stand-in
    (as `make run` sets it), else None: runserver is not listening yet when `make run` runs this.
    The sandbox is imported only when it is installed."""
    if not settings.SANDBOX:
        return None
    from sandbox.stripe import in_process

    return in_process if in_process.serves(settings.STRIPE_API_BASE) else None


class Command(BaseCommand):
    help = (
        "Create the Demo Shop and its owner (once, with 50 test credits) and print the token; "
        "with Stripe configured, give packages demo Stripe prices and sync them to the sandbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-password-123")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options):
        self._demo_shop(options)
        if settings.STRIPE_SECRET_KEY:
            self._stripe()

    @transaction.atomic
    def _demo_shop(self, options):
        user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            token, business = business_register(
                username=DEMO_USERNAME,
                email=DEMO_EMAIL,
                password=options["password"],
                business_name=DEMO_BUSINESS,
            )
            credits_grant(business=business, credits=TEST_GRANT, package="test")
            self.stdout.write(f"Created {DEMO_BUSINESS} with {TEST_GRANT} test credits.")
        else:
            token, _ = Token.objects.get_or_create(user=user)
            business = Business.objects.get(owner=user, name=DEMO_BUSINESS)
        balance = balance_get(business=business)["balance"]
        url = f"{options['base_url']}/ai/api/credits/balance/"
        self.stdout.write(
            f"Demo business: {business.name} (id {business.pk}), owner '{DEMO_USERNAME}', "
            f"balance {balance}\n"
            f"API token: {token.key}\n"
            f'Try: curl -H "Authorization: Token {token.key}" {url}'
        )
        if settings.SANDBOX:
            self.stdout.write(
                f"Buy credits in the browser: {options['base_url']}/demo/ (log in as "
                f"'{DEMO_USERNAME}' / '{options['password']}', or register). Paystack is the "
                f"local sandbox: no account needed, no money moves."
            )

    def _stripe(self):
        currency = settings.STRIPE_CURRENCY
        filled = stripe_prices_fill(prices=DEMO_STRIPE_PRICES)
        if filled:
            given = ", ".join(f"{code} {DEMO_STRIPE_PRICES[code]}" for code in filled)
            self.stdout.write(f"Gave packages demo Stripe prices in {currency}: {given}.")
        in_process = local_stripe_standin()
        if in_process is None:
            # A real Stripe account's catalogue changes only when ops run the command.
            self.stdout.write(
                f"Stripe is {settings.STRIPE_API_BASE}: create the packages' products and "
                "prices there with `manage.py setup_stripe_credit_products` (--dry-run first)."
            )
            return
        try:
            with in_process.chatty_loggers_quiet():
                service = StripeService(http_client=in_process.InProcessHTTP())
                synced = catalogue_sync(service=service)
        except CatalogueSyncFailed as exc:
            # Checkout still works without price ids (it prices the line inline), so the demo
            # goes on; the command finishes the sync later.
            self.stderr.write(f"{exc} Run `manage.py setup_stripe_credit_products` to finish.")
            return
        prices = ", ".join(f"{row.code} {row.amount}" for row in synced)
        changed = sum(1 for row in synced if row.actions)
        self.stdout.write(
            f"Card payments in {currency} through the local Stripe sandbox: {prices} "
            f"({changed} of {len(synced)} products or prices created or updated)."
        )
