from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ai_features.credits.ledger import (
    clawback_mismatches,
    ledger_latest_mismatches,
    ledger_mismatches,
)
from ai_features.management.tables import format_table
from ai_features.payments.errors import GatewayError
from ai_features.payments.reconciliation import purchase_reconcile, purchases_to_recheck


class Command(BaseCommand):
    help = (
        "For cron: ask the gateway (Paystack or Stripe) about purchases left pending and settle "
        "them; with "
        "--check-ledger, check every balance against its latest ledger entry (nightly), or "
        "with --full against the sum of all its entries (weekly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=30,
            metavar="MINUTES",
            help="Only purchases pending for longer than this (default 30).",
        )
        parser.add_argument(
            "--check-ledger",
            action="store_true",
            help="Check every active balance against the balance after its latest ledger entry, "
            "and every refund and dispute claim; exit 1 on any mismatch.",
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="With --check-ledger: check every balance against the sum of all its ledger "
            "entries instead (reads the whole ledger; weekly).",
        )

    def handle(self, *args, **options):
        if options["full"] and not options["check_ledger"]:
            raise CommandError("--full goes with --check-ledger.")
        if options["check_ledger"]:
            self._check_ledger(full=options["full"])
            return
        if options["older_than"] < 0:
            raise CommandError("--older-than must not be negative.")
        now = timezone.now()
        stuck = purchases_to_recheck(now=now, older_than=timedelta(minutes=options["older_than"]))
        rows = []
        for purchase in stuck:
            try:
                outcome = purchase_reconcile(purchase=purchase, now=now)
            except GatewayError as exc:  # one outage must not stop the rest; next run retries
                outcome = f"error: {exc.code}"
            rows.append([purchase.payment_reference, purchase.business_id, outcome])
        if rows:
            self.stdout.write(format_table(["reference", "business", "outcome"], rows))
        self.stdout.write(f"Checked {len(rows)} unsettled purchase(s).")

    def _check_ledger(self, *, full: bool):
        wrong = ledger_mismatches() if full else ledger_latest_mismatches()
        claims = clawback_mismatches()
        if not wrong and not claims:
            if full:
                self.stdout.write("Ledger OK: every balance equals the sum of its ledger entries.")
            else:
                self.stdout.write(
                    "Ledger OK: every active balance equals the balance after its latest entry."
                )
            self.stdout.write("Claims OK: every refund and dispute adds up and is in the ledger.")
            return
        if wrong:
            rows = [[b.pk, b.name, balance, total] for b, balance, total in wrong]
            found = "ledger sum" if full else "after latest entry"
            self.stdout.write(format_table(["id", "business", "balance", found], rows))
        if claims:
            rows = [[type(item).__name__, item.pk, why] for item, why in claims]
            self.stdout.write(format_table(["row", "id", "what is wrong"], rows))
        problems = []
        if wrong:
            names = ", ".join(f"{b.name} (id {b.pk})" for b, _, _ in wrong)
            problems.append(f"Ledger mismatch for {len(wrong)} business(es): {names}")
        if claims:
            problems.append(f"{len(claims)} refund or dispute claim problem(s)")
        raise CommandError("; ".join(problems))
