from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Business
from ai_features.credits.credits import (
    balance_get,
    balance_shown,
    business_balance_row,
    businesses_with_balances,
)
from ai_features.credits.grants import credits_grant
from ai_features.credits.reset import ai_data_reset, reset_models
from ai_features.management.tables import format_table
from ai_features.models import CreditPackage

TEST_GRANT = Decimal("50")
RESET_WORD = "reset"


class Command(BaseCommand):
    help = "Show the AI credit packages, list balances, grant credits, or reset AI-credit data."

    def add_arguments(self, parser):
        parser.add_argument("--list-businesses", action="store_true", help="Show every balance.")
        grants = parser.add_mutually_exclusive_group()
        grants.add_argument("--grant-test", action="store_true", help="Grant 50 test credits.")
        for code in ("starter", "value", "premium"):
            grants.add_argument(
                f"--grant-{code}",
                action="store_true",
                help=f"Grant the {code} package's total credits.",
            )
        parser.add_argument("--business-id", type=int, help="Limit to this one business.")
        parser.add_argument("--reset", action="store_true", help="Delete all AI-credit data.")
        parser.add_argument("--yes", action="store_true", help="Skip the --reset confirmation.")

    def handle(self, *args, **options):
        businesses = self._businesses(options["business_id"])
        grant = self._grant_requested(options)
        if options["reset"]:
            self._reset(confirmed=options["yes"])
        elif grant:
            self._grant(businesses, *grant)
        elif options["list_businesses"]:
            self._list(businesses)
        elif options["business_id"] is not None:
            raise CommandError("--business-id goes with a --grant-* flag or --list-businesses.")
        else:
            self._packages()

    def _businesses(self, business_id):
        businesses = Business.objects.select_related("owner").order_by("id")
        if business_id is None:
            return businesses
        if not businesses.filter(pk=business_id).exists():
            raise CommandError(f"No business with id {business_id}.")
        return businesses.filter(pk=business_id)

    def _grant_requested(self, options):
        if options["grant_test"]:
            return "test", TEST_GRANT, Decimal("0")
        for code in ("starter", "value", "premium"):
            if options[f"grant_{code}"]:
                package = CreditPackage.objects.filter(code=code).first()
                if package is None:
                    raise CommandError(f"The {code} package does not exist.")
                return code, package.credits, package.bonus_credits
        return None

    def _packages(self):
        rows = [
            [
                p.code,
                p.name,
                f"{p.price} {p.currency}",
                p.credits,
                p.bonus_credits,
                p.total_credits,
                f"{p.savings_percent}%",
                "yes" if p.is_active else "no",
            ]
            for p in CreditPackage.objects.order_by("display_order", "id")
        ]
        headers = [
            "code",
            "name",
            "price",
            "credits",
            "bonus",
            "total",
            "savings",
            "active",
        ]
        self.stdout.write(format_table(headers, rows))

    def _list(self, businesses):
        rows = []
        # One query for every business and its balance, however many there are.
        for business in businesses_with_balances(businesses):
            balance = balance_shown(row=business_balance_row(business))
            rows.append(
                [
                    business.pk,
                    business.name,
                    business.owner.username,
                    balance["balance"],
                    _moment(balance["expires_at"]),
                    "yes" if balance["is_active"] else "no",
                ]
            )
        headers = ["id", "business", "owner", "balance", "expires", "active"]
        self.stdout.write(format_table(headers, rows) if rows else "No businesses.")

    def _grant(self, businesses, package, credits, bonus):
        rows = []
        for business in businesses:
            purchase = credits_grant(
                business=business, credits=credits, bonus_credits=bonus, package=package
            )
            balance = balance_get(business=business)
            rows.append(
                [
                    business.pk,
                    business.name,
                    purchase.total_credits,
                    purchase.payment_reference,
                    balance["balance"],
                    _moment(balance["expires_at"]),  # the grant restarted the expiry clock
                ]
            )
        if not rows:
            self.stdout.write("No businesses to grant credits to.")
            return
        headers = ["id", "business", "granted", "reference", "balance", "expires"]
        self.stdout.write(format_table(headers, rows))

    def _reset(self, *, confirmed):
        if not confirmed:
            tables = ", ".join(str(m._meta.verbose_name_plural) for m in reset_models())
            self.stdout.write(
                f"This deletes every row of: {tables}.\n"
                "Packages and feature prices (configuration) are kept.\n"
                f"Type '{RESET_WORD}' to confirm: ",
                ending="",
            )
            try:
                answer = input()
            except EOFError:
                answer = ""
            if answer.strip() != RESET_WORD:
                raise CommandError("Reset aborted; nothing was deleted.")
        counts = ai_data_reset()
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Deleted {summary}."))


def _moment(when) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when else "-"
