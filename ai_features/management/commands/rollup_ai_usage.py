from django.core.management.base import BaseCommand

from ai_features.credits.rollup import usage_rollup_build


class Command(BaseCommand):
    help = (
        "For cron (nightly, after midnight in TIME_ZONE): roll up each business's usage of the "
        "days that are over and have no hold pending, for the usage reports."
    )

    def handle(self, *args, **options):
        done = usage_rollup_build()
        self.stdout.write(f"Rolled up usage for {len(done)} business(es).")
