from django.core.management.base import BaseCommand, CommandError

from ai_features.management.tables import format_table
from ai_features.payments.gateways.stripe import StripeNotConfigured, StripeService
from ai_features.payments.stripe_catalogue import (
    CatalogueError,
    CatalogueSyncFailed,
    PackageSync,
    catalogue_sync,
    packages_off_stripe,
    price_settings_parse,
)


class Command(BaseCommand):
    help = (
        "Create or update each active package's Stripe Product and one-time Price (in "
        "STRIPE_CURRENCY) and store their ids. A changed amount makes a new Price and archives "
        "the old one; a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--price",
            action="append",
            default=[],
            metavar="CODE=AMOUNT",
            help="Set this package's price in STRIPE_CURRENCY (repeatable), e.g. --price "
            "starter=2.50; saved with the Stripe price that charges it.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the plan; change nothing at Stripe or here.",
        )

    def handle(self, *args, **options):
        dry_run = options["dry_run"]
        try:
            prices = price_settings_parse(texts=options["price"])
            service = StripeService()
            synced = catalogue_sync(service=service, prices=prices, dry_run=dry_run)
        except StripeNotConfigured as exc:
            raise CommandError(
                "STRIPE_SECRET_KEY is not set: there is no Stripe account to sync with."
            ) from exc
        except CatalogueError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from exc
        except CatalogueSyncFailed as exc:
            if exc.done:
                self._table(exc.done, dry_run=dry_run)
            raise CommandError(
                f"{exc} Packages synced before it are saved; it and those after it keep their "
                "old price. Run the command again (with the same --price, if any) to finish."
            ) from exc
        self._table(synced, dry_run=dry_run)
        off = [code for code in packages_off_stripe() if code not in {r.code for r in synced}]
        if off:
            self.stdout.write(f"Not sold through Stripe (no Stripe price): {', '.join(off)}.")
        changed = sum(1 for row in synced if row.actions)
        if dry_run:
            self.stdout.write(f"Dry run: {changed} of {len(synced)} would change; nothing changed.")
        else:
            self.stdout.write(f"Synced {len(synced)} packages: {changed} changed.")

    def _table(self, rows: list[PackageSync], *, dry_run: bool) -> None:
        new = "(new)" if dry_run else ""
        self.stdout.write(
            format_table(
                ["Package", "Price", "Product", "Stripe price", "Action"],
                [
                    [
                        row.code,
                        f"{row.amount} {row.currency}",
                        row.product_id or new,
                        row.price_id or new,
                        ", ".join(row.actions) or "unchanged",
                    ]
                    for row in rows
                ],
            )
        )
