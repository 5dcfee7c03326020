"""Unsigned webhook deliveries (anyone can send them; issue 19, item 6): stored up to
WEBHOOK_INVALID_PER_MINUTE per client address and minute, counted past that and answered 400
as before; signed ones are never limited; stored ones are purged by `expire_ai_credits` after
WEBHOOK_INVALID_RETENTION_DAYS (design 7.4)."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ai_features.models import InvalidWebhookCount, WebhookEvent
from ai_features.payments.invalid_webhooks import invalid_delivery_storable
from ai_features.payments.webhooks import webhook_receive
from testing.credits import stored_balance
from testing.factories import PurchaseFactory
from testing.paystack_api import charge_success_body, sign
from testing.races import run_in_threads

pytestmark = pytest.mark.django_db


def unsigned(client, address="203.0.113.7", body=b'{"event": "charge.success", "data": {}}'):
    return client.generic(
        "POST",
        "/ai/api/webhooks/paystack/",
        body,
        content_type="application/json",
        HTTP_X_PAYSTACK_SIGNATURE="f" * 128,
        REMOTE_ADDR=address,
    )


@pytest.fixture
def limit_of_3(settings, paystack_settings):
    settings.WEBHOOK_INVALID_PER_MINUTE = 3
    return settings


def test_past_the_limit_unsigned_deliveries_are_answered_as_before_and_only_counted(
    client, limit_of_3, caplog
):
    responses = [unsigned(client) for _ in range(5)]

    assert [r.status_code for r in responses] == [400] * 5
    assert {json.dumps(r.json()) for r in responses} == {
        json.dumps({"received": False, "outcome": "invalid_signature"})
    }
    assert WebhookEvent.objects.filter(remote_addr="203.0.113.7").count() == 3
    count = InvalidWebhookCount.objects.get()
    assert (count.remote_addr, count.received, count.dropped) == ("203.0.113.7", 5, 2)
    assert count.minute.second == 0 and count.minute.microsecond == 0
    over = [r for r in caplog.records if "counted, not stored" in r.getMessage()]
    assert len(over) == 1  # one warning a minute, not one per delivery


def test_the_limit_is_per_client_address(client, limit_of_3):
    for _ in range(4):
        unsigned(client, "203.0.113.7")
    unsigned(client, "198.51.100.2")

    assert WebhookEvent.objects.filter(remote_addr="203.0.113.7").count() == 3
    assert WebhookEvent.objects.filter(remote_addr="198.51.100.2").count() == 1


def test_the_client_address_is_read_as_the_throttles_read_it(client, limit_of_3, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    client.generic(
        "POST",
        "/ai/api/webhooks/paystack/",
        b"{}",
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",  # the load balancer
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )

    assert WebhookEvent.objects.get().remote_addr == "203.0.113.50"
    assert InvalidWebhookCount.objects.get().remote_addr == "203.0.113.50"


def test_signed_deliveries_are_never_limited(client, business, limit_of_3):
    for _ in range(5):
        unsigned(client)
    purchase = PurchaseFactory(business=business)
    raw = charge_success_body(purchase.payment_reference, 9400)

    answers = [
        client.generic(
            "POST",
            "/ai/api/webhooks/paystack/",
            raw,
            content_type="application/json",
            HTTP_X_PAYSTACK_SIGNATURE=sign(raw),
            REMOTE_ADDR="203.0.113.7",
        )
        for _ in range(5)
    ]

    assert [a.status_code for a in answers] == [200] * 5
    assert WebhookEvent.objects.filter(signature_valid=True).count() == 5
    assert stored_balance(business) == Decimal("100.00")
    assert InvalidWebhookCount.objects.get().received == 5  # the signed ones are not counted


def test_a_new_minute_stores_again():
    start = timezone.now().replace(second=59)
    allowed = [invalid_delivery_storable(remote_addr="203.0.113.7", now=start) for _ in range(62)]
    next_minute = start + timedelta(seconds=1)

    assert allowed == [True] * 60 + [False] * 2  # WEBHOOK_INVALID_PER_MINUTE's default
    assert invalid_delivery_storable(remote_addr="203.0.113.7", now=next_minute)
    assert sorted(InvalidWebhookCount.objects.values_list("received", "dropped")) == [
        (1, 0),
        (62, 2),
    ]


def test_deliveries_with_no_address_share_one_count(limit_of_3):
    for _ in range(4):
        webhook_receive(gateway="paystack", raw_body=b"{}", headers={}, remote_addr="unix:")

    assert WebhookEvent.objects.filter(remote_addr__isnull=True).count() == 3
    assert InvalidWebhookCount.objects.get(remote_addr__isnull=True).dropped == 1


def test_a_limit_of_0_stores_no_unsigned_delivery_but_counts_them(client, limit_of_3):
    limit_of_3.WEBHOOK_INVALID_PER_MINUTE = 0

    assert unsigned(client).status_code == 400

    assert not WebhookEvent.objects.exists()
    assert InvalidWebhookCount.objects.values_list("received", "dropped").get() == (1, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_unsigned_deliveries_store_exactly_the_limit(settings, paystack_settings):
    settings.WEBHOOK_INVALID_PER_MINUTE = 5

    def deliver(index):
        assert unsigned(Client()).status_code == 400

    run_in_threads(20, deliver)

    assert WebhookEvent.objects.count() == 5
    assert InvalidWebhookCount.objects.values_list("received", "dropped").get() == (20, 15)


def expire() -> str:
    out = StringIO()
    call_command("expire_ai_credits", stdout=out)
    return out.getvalue()


def aged(days: float, **fields) -> WebhookEvent:
    delivery = WebhookEvent.objects.create(raw_body="{}", **fields)
    received_at = timezone.now() - timedelta(days=days)
    WebhookEvent.objects.filter(pk=delivery.pk).update(received_at=received_at)
    return delivery


def test_expire_ai_credits_purges_unsigned_deliveries_past_the_retention():
    old = aged(7.01, signature_valid=False, outcome="invalid_signature")
    recent = aged(6.99, signature_valid=False, outcome="invalid_signature")
    old_signed = aged(400, signature_valid=True, outcome="credited")
    minute = timezone.now().replace(second=0, microsecond=0)
    InvalidWebhookCount.objects.create(minute=minute - timedelta(days=8), received=90, dropped=30)
    kept_count = InvalidWebhookCount.objects.create(minute=minute, received=1)

    out = expire()

    assert set(WebhookEvent.objects.all()) == {recent, old_signed}
    assert not WebhookEvent.objects.filter(pk=old.pk).exists()
    assert list(InvalidWebhookCount.objects.all()) == [kept_count]
    assert "Unsigned webhook deliveries deleted: 1 (and 1 per-minute counts)" in out


def test_the_retention_is_a_setting(settings):
    settings.WEBHOOK_INVALID_RETENTION_DAYS = 1
    aged(1.5, signature_valid=False, outcome="invalid_signature")
    kept = aged(0.5, signature_valid=False, outcome="invalid_signature")

    expire()

    assert list(WebhookEvent.objects.all()) == [kept]
