from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ai_features.credits.expiry import (
    credits_expire_due,
    expiring_soon_warn,
    holds_release_stale,
)
from ai_features.idempotency import Scope, idempotency_keys_purge
from ai_features.payments.invalid_webhooks import invalid_deliveries_purge


class Command(BaseCommand):
    help = (
        "For cron: expire due balances, warn of credits expiring within 7 days, release "
        "holds left pending, delete idempotency keys (purchases' and AI feature answers kept "
        "for replay) past 24 hours and claims left by requests that died, and delete unsigned "
        "webhook deliveries past WEBHOOK_INVALID_RETENTION_DAYS. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hold-timeout",
            type=int,
            default=15,
            metavar="MINUTES",
            help="Release holds pending for longer than this (default 15).",
        )

    def handle(self, *args, **options):
        if options["hold_timeout"] < 1:
            raise CommandError("--hold-timeout must be at least 1 minute.")
        now = timezone.now()
        expired = credits_expire_due(now=now)
        warned = expiring_soon_warn(now=now)
        released = holds_release_stale(
            older_than=timedelta(minutes=options["hold_timeout"]), now=now
        )
        self.stdout.write(f"Expired balances: {len(expired)}{_ids(expired, 'business')}")
        self.stdout.write(f"Expiring-soon alerts: {len(warned)}{_ids(warned, 'business')}")
        purged = idempotency_keys_purge(now=now)
        self.stdout.write(f"Stale holds released: {len(released)}{_ids(released, 'transaction')}")
        self.stdout.write(f"Stored AI answers deleted: {purged[Scope.FEATURE]}")
        self.stdout.write(f"Purchase idempotency keys deleted: {purged[Scope.PURCHASE]}")
        deliveries, counts = invalid_deliveries_purge(now=now)
        self.stdout.write(
            f"Unsigned webhook deliveries deleted: {deliveries} (and {counts} per-minute counts)"
        )


def _ids(ids: list[int], what: str) -> str:
    return f" ({what} ids: {', '.join(map(str, ids))})" if ids else ""
