"""Benchmark: charges per second of `credits_charge` against the same writes in raw SQL.

    .venv/bin/python bench/charge.py [--seconds 5] [--businesses 10000]

It uses its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ai_credits_bench), dropped and rebuilt on every run. For
1 and 8 threads, on one hot business and spread over many businesses, it runs the service and
then raw psycopg2 doing the same writes with the same statements as the service's ORM (lock the
active balance row with SELECT … FOR UPDATE, update its balance, insert the usage transaction
linked to that row and the ledger row, commit). It prints both rates and their ratio (the ORM's
ceiling against its own SQL), and finally checks that every balance equals its ledger sum. Not a
test: nothing here asserts a speed.
"""

import argparse
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ai_credits_bench"
)
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret")
os.environ["DEBUG"] = "false"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pos.settings")

import psycopg2  # noqa: E402
from serving import recreate_database  # noqa: E402

PRICE = Decimal("2.50")
START_BALANCE = Decimal("1000000.00")


def seed(count: int) -> list[int]:
    """`count` businesses, each with an active balance that no run can exhaust."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import Business
    from ai_features.credits.credits import credits_expiry_for
    from ai_features.models import BusinessAICredits, CreditLedgerEntry

    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{i}", email=f"bench{i}@example.com") for i in range(count)
    )
    businesses = Business.objects.bulk_create(
        Business(name=f"Bench shop {i}", owner=user) for i, user in enumerate(users)
    )
    now = timezone.now()
    BusinessAICredits.objects.bulk_create(
        BusinessAICredits(
            business=b,
            balance=START_BALANCE,
            is_active=True,
            purchased_at=now,
            expires_at=credits_expiry_for(now),
        )
        for b in businesses
    )
    CreditLedgerEntry.objects.bulk_create(
        CreditLedgerEntry(
            business=b, kind="grant", amount=START_BALANCE, balance_after=START_BALANCE
        )
        for b in businesses
    )
    return [b.pk for b in businesses]


def django_charge(business_id: int, _state) -> None:
    from accounts.models import Business
    from ai_features.credits.billing import credits_charge

    # A feature already holds its request's Business; building one from the id costs no query.
    credits_charge(business=Business(pk=business_id), user=None, feature="product_description")


RAW_LOCK = (
    "SELECT id FROM business_ai_credits "
    "WHERE business_id = %s AND is_active ORDER BY id LIMIT 1 FOR UPDATE"
)
RAW_UPDATE = (
    "UPDATE business_ai_credits SET balance = balance - %s, updated_at = now() "
    "WHERE id = %s RETURNING balance"
)
RAW_TRANSACTION = (
    "INSERT INTO ai_transactions (business_id, feature, credits_used, cost_to_us, "
    "tokens_used, timestamp, success, error_message, status, credits_held, credits_uncharged, "
    "settled_at, balance_row_id, model, prompt_tokens, completion_tokens, provider_request_id) "
    "VALUES (%s, 'product_description', %s, 0, 0, now(), true, '', 'completed', 0, 0, now(), "
    "%s, '', 0, 0, '') RETURNING id"
)
RAW_LEDGER = (
    "INSERT INTO ai_features_creditledgerentry (business_id, kind, amount, balance_after, "
    "usage_id, created_at) VALUES (%s, 'usage', %s, %s, %s, now())"
)


def raw_charge(business_id: int, state) -> None:
    connection = state.get("raw")
    if connection is None:
        connection = state["raw"] = psycopg2.connect(BENCH_URL)
    with connection, connection.cursor() as cursor:
        cursor.execute(RAW_LOCK, (business_id,))
        (row_id,) = cursor.fetchone()
        cursor.execute(RAW_UPDATE, (PRICE, row_id))
        (balance,) = cursor.fetchone()
        cursor.execute(RAW_TRANSACTION, (business_id, PRICE, row_id))
        (transaction_id,) = cursor.fetchone()
        cursor.execute(RAW_LEDGER, (business_id, -PRICE, balance, transaction_id))


def measure(charge, threads: int, pick, seconds: float) -> float:
    """Charges per second with `threads` workers charging businesses chosen by `pick`."""
    from django.db import connection

    done = [0] * threads
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        state, rng = {}, random.Random(index)  # noqa: S311 (load spreading, not security)
        barrier.wait()
        while time.monotonic() < stop:
            charge(pick(rng), state)
            done[index] += 1
        if "raw" in state:
            state["raw"].close()
        connection.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for worker_thread in workers:
        worker_thread.start()
    started = time.monotonic()
    barrier.wait()
    for worker_thread in workers:
        worker_thread.join()
    return sum(done) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement (default 5)")
    parser.add_argument("--businesses", type=int, default=10_000)
    args = parser.parse_args()

    recreate_database(BENCH_URL)
    import django

    django.setup()
    from django.core.management import call_command

    from ai_features.credits.ledger import ledger_mismatches

    call_command("migrate", verbosity=0)
    ids = seed(args.businesses)
    hot = ids[0]
    scenarios = {"one hot business": lambda rng: hot, f"{len(ids)} businesses": rng_choice(ids)}

    print(f"PostgreSQL {BENCH_URL}; {args.seconds:g} s per figure; charges per second")
    print(f"{'scenario':<22} {'threads':>7} {'service':>9} {'raw SQL':>9} {'ratio':>6}")
    for label, pick in scenarios.items():
        for threads in (1, 8):
            service = measure(django_charge, threads, pick, args.seconds)
            raw = measure(raw_charge, threads, pick, args.seconds)
            print(f"{label:<22} {threads:>7} {service:>9.0f} {raw:>9.0f} {service / raw:>6.2f}")

    wrong = ledger_mismatches()
    print(f"Ledger check: {len(ids)} businesses, {len(wrong)} mismatched balances")
    return 1 if wrong else 0


def rng_choice(ids: list[int]):
    return lambda rng: rng.choice(ids)


if __name__ == "__main__":
    sys.exit(main())
