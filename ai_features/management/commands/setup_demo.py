from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Business
from accounts.services import business_register
from ai_features.management.commands.setup_ai_credits import TEST_GRANT
from ai_features.services.credits import balance_get
from ai_features.services.grants import credits_grant

DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_BUSINESS = "Demo Shop"


class Command(BaseCommand):
    help = "Create the Demo Shop and its owner (once, with 50 test credits) and print the token."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-password-123")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args, **options):
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
        if settings.PAYSTACK_SANDBOX:
            self.stdout.write(
                f"Buy credits in the browser: {options['base_url']}/demo/ (log in as "
                f"'{DEMO_USERNAME}' / '{options['password']}', or register). Paystack is the "
                f"local sandbox: no account needed, no money moves."
            )
