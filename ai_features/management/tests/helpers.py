"""What the management commands' tests share: running a command for its output, and ageing a
purchase."""

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from ai_features.models import AICreditPurchase


def command_output(name: str, *args) -> str:
    """What the command `name` prints to stdout, run with `args`."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def aged(purchase, **delta):
    """The purchase, made `delta` (timedelta's keywords) older, as stored."""
    AICreditPurchase.objects.filter(pk=purchase.pk).update(
        purchased_at=timezone.now() - timedelta(**delta)
    )
    purchase.refresh_from_db()
    return purchase
