"""Unsigned webhook deliveries (anyone can post them): at most WEBHOOK_INVALID_PER_MINUTE a
minute per client address are stored, the rest only counted, and all are purged after
WEBHOOK_INVALID_RETENTION_DAYS (design section 7, rule 4). Signed deliveries are never limited."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from ai_features.models import InvalidWebhookCount, WebhookEvent

logger = logging.getLogger(__name__)


@transaction.atomic
def invalid_delivery_storable(*, remote_addr: str | None, now: datetime) -> bool:
    """Count one unsigned delivery from `remote_addr`: whether it is among the first
    WEBHOOK_INVALID_PER_MINUTE of its minute, and so is stored. Past the limit, only the count
    grows (InvalidWebhookCount, in the admin), and one warning a minute says so."""
    limit = settings.WEBHOOK_INVALID_PER_MINUTE
    minute = now.replace(second=0, microsecond=0)
    counts = InvalidWebhookCount.objects.select_for_update().filter(
        remote_addr=remote_addr, minute=minute
    )
    count = counts.first()  # locked: racing deliveries of one address count one by one
    if count is None:
        try:
            with transaction.atomic():  # the unique (address, minute) decides a race to create
                count = InvalidWebhookCount.objects.create(remote_addr=remote_addr, minute=minute)
        except IntegrityError:
            count = counts.get()
    count.received += 1
    storable = count.received <= limit
    if not storable:
        count.dropped += 1
        if count.dropped == 1:
            logger.warning(
                "unsigned webhooks over %s a minute from remote_addr=%s: counted, not stored",
                limit,
                remote_addr or "-",
            )
    count.save(update_fields=["received", "dropped"])
    return storable


def invalid_deliveries_purge(*, now: datetime) -> tuple[int, int]:
    """Delete the unsigned deliveries, and their counts, older than
    WEBHOOK_INVALID_RETENTION_DAYS: (deliveries, counts) deleted. Signed ones are kept."""
    before = now - timedelta(days=settings.WEBHOOK_INVALID_RETENTION_DAYS)
    deliveries = WebhookEvent.objects.filter(signature_valid=False, received_at__lt=before)
    counts = InvalidWebhookCount.objects.filter(minute__lt=before)
    return deliveries.delete()[0], counts.delete()[0]
