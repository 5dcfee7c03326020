from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from ai_features.management.tables import format_table
from ai_features.models import AICreditPurchase
from ai_features.payments.errors import GatewayError
from ai_features.payments.fulfilment import purchase_reconcile
from ai_features.services.ledger import ledger_mismatches

RECHECK_DECLINED_FOR = timedelta(hours=48)


class Command(BaseCommand):
    help = (
        "For cron: ask Paystack about purchases left pending and settle them; with "
        "--check-ledger, check every balance against its ledger."
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
            help="Check that every balance equals its ledger sum; exit 1 on any mismatch.",
        )

    def handle(self, *args, **options):
        if options["check_ledger"]:
            self._check_ledger()
            return
        if options["older_than"] < 0:
            raise CommandError("--older-than must not be negative.")
        now = timezone.now()
        cutoff = now - timedelta(minutes=options["older_than"])
        Status = AICreditPurchase.Status
        # A declined attempt can be retried in the same checkout, so a purchase Paystack
        # called "failed" is asked about again for a while, in case its webhook was lost.
        declined_recently = Q(
            payment_status=Status.FAILED,
            gateway_status="failed",
            purchased_at__gte=now - RECHECK_DECLINED_FOR,
        )
        stuck = AICreditPurchase.objects.filter(
            Q(payment_status=Status.PENDING) | declined_recently, purchased_at__lte=cutoff
        ).order_by("purchased_at")
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

    def _check_ledger(self):
        wrong = ledger_mismatches()
        if not wrong:
            self.stdout.write("Ledger OK: every balance equals the sum of its ledger entries.")
            return
        rows = [[b.pk, b.name, balance, total] for b, balance, total in wrong]
        self.stdout.write(format_table(["id", "business", "balance", "ledger sum"], rows))
        names = ", ".join(f"{b.name} (id {b.pk})" for b, _, _ in wrong)
        raise CommandError(f"Ledger mismatch for {len(wrong)} business(es): {names}")
