"""Benchmark: `credits_charge` against raw SQL, with threads and with processes.

    .venv/bin/python bench/charge_processes.py [--seconds 3] [--repeat 3] [--businesses 10000]

Like bench/charge.py (same database, rebuilt each run; same seed), but production serves with
several gunicorn workers, each with its own GIL, so besides 1 and 8 threads in one process it
also runs 4 processes of one thread each. The service is the ORM (lock the active balance row,
create the usage row, save the debit, create the ledger entry). Raw SQL is measured three ways,
all doing the same writes through psycopg2:
- "raw same": the service's own statements (BEGIN; SELECT … FOR UPDATE; UPDATE the balance;
  INSERT the usage transaction; INSERT the ledger row; COMMIT), as bench/charge.py runs them.
  The ratio is service / raw same: what the ORM costs over the SQL it sends.
- "raw three": no lock first: a conditional `UPDATE … WHERE balance >= x AND is_active AND not
  expired RETURNING`, then the two INSERTs.
- "raw one": those three writes as one statement of WITH queries.
"vs best" is service / the fastest of the three: the ceiling of any SQL for this charge.
Each figure is the median of --repeat runs. Ends with the ledger check. Asserts no speed.
"""

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import charge as base  # noqa: E402  (sets the environment for Django and the bench database)

RAW_DEBIT = (
    "UPDATE business_ai_credits SET balance = balance - %s, updated_at = now() "
    "WHERE business_id = %s AND is_active AND balance >= %s "
    "AND (expires_at IS NULL OR expires_at > now()) RETURNING id, balance"
)
RAW_ONE = (
    f"WITH debited AS ({RAW_DEBIT}), "
    "used AS (INSERT INTO ai_transactions (business_id, feature, credits_used, cost_to_us, "
    "tokens_used, timestamp, success, error_message, status, credits_held, credits_uncharged, "
    "settled_at, balance_row_id, model, prompt_tokens, completion_tokens, provider_request_id) "
    "SELECT %s, 'product_description', %s, 0, 0, now(), true, '', 'completed', 0, 0, now(), "
    "debited.id, '', 0, 0, '' FROM debited RETURNING id), "
    "entry AS (INSERT INTO ai_features_creditledgerentry (business_id, kind, amount, "
    "balance_after, usage_id, created_at) SELECT %s, 'usage', %s, debited.balance, used.id, "
    "now() FROM debited, used) "
    "SELECT used.id FROM used"
)


def raw_one_charge(business_id: int, state) -> None:
    connection = state.get("raw")
    if connection is None:
        connection = state["raw"] = base.psycopg2.connect(base.BENCH_URL)
    with connection, connection.cursor() as cursor:
        debit = (base.PRICE, business_id, base.PRICE)
        cursor.execute(RAW_ONE, (*debit, business_id, base.PRICE, business_id, -base.PRICE))
        (transaction_id,) = cursor.fetchone()


def raw_three_charge(business_id: int, state) -> None:
    connection = state.get("raw")
    if connection is None:
        connection = state["raw"] = base.psycopg2.connect(base.BENCH_URL)
    with connection, connection.cursor() as cursor:
        cursor.execute(RAW_DEBIT, (base.PRICE, business_id, base.PRICE))
        row_id, balance = cursor.fetchone()
        cursor.execute(base.RAW_TRANSACTION, (business_id, base.PRICE, row_id))
        (transaction_id,) = cursor.fetchone()
        cursor.execute(base.RAW_LEDGER, (business_id, -base.PRICE, balance, transaction_id))


KINDS = {
    "service": base.django_charge,
    "raw same": base.raw_charge,
    "raw three": raw_three_charge,
    "raw one": raw_one_charge,
}


def _process(kind, pick, seconds, index, barrier, counts) -> None:
    import random

    from django.db import connection

    state, rng, done = {}, random.Random(index), 0  # noqa: S311 (load spreading only)
    barrier.wait()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        KINDS[kind](pick(rng), state)
        done += 1
    counts[index] = done
    if "raw" in state:
        state["raw"].close()
    connection.close()


def measure_processes(kind: str, processes: int, pick, seconds: float) -> float:
    from django.db import connections

    connections.close_all()  # no connection may cross a fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    counts = context.Array("l", processes)
    workers = [
        context.Process(target=_process, args=(kind, pick, seconds, i, barrier, counts))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.monotonic()
    for worker in workers:
        worker.join(timeout=seconds + 30)
        if worker.is_alive():
            worker.terminate()
    return sum(counts) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()

    base.recreate_database(base.BENCH_URL)
    import django

    django.setup()
    from django.core.management import call_command

    from ai_features.credits.ledger import ledger_mismatches

    call_command("migrate", verbosity=0)
    ids = base.seed(args.businesses)
    hot = ids[0]
    scenarios = {
        "one hot business": lambda rng: hot,
        f"{len(ids)} businesses": base.rng_choice(ids),
    }
    runs = [("threads", 1), ("threads", 8), ("processes", args.processes)]

    def figure(kind, how, count, pick):
        if how == "threads":
            return base.measure(KINDS[kind], count, pick, args.seconds)
        return measure_processes(kind, count, pick, args.seconds)

    print(
        f"PostgreSQL {base.BENCH_URL}; {args.seconds:g} s per run, median of {args.repeat}; "
        "charges per second"
    )
    print(
        f"{'scenario':<18} {'workers':<12} {'service':>8} {'raw same':>9} {'raw three':>9} "
        f"{'raw one':>8} {'ratio':>6} {'vs best':>8}"
    )
    for label, pick in scenarios.items():
        for how, count in runs:
            rates = {}
            for kind in KINDS:
                rates[kind] = statistics.median(
                    figure(kind, how, count, pick) for _ in range(args.repeat)
                )
                if not rates[kind]:
                    print(f"{kind} made no charge: see the error above", file=sys.stderr)
                    return 2
            best = max(rates["raw same"], rates["raw three"], rates["raw one"])
            print(
                f"{label:<18} {f'{count} {how}':<12} {rates['service']:>8.0f} "
                f"{rates['raw same']:>9.0f} {rates['raw three']:>9.0f} {rates['raw one']:>8.0f} "
                f"{rates['service'] / rates['raw same']:>6.2f} {rates['service'] / best:>8.2f}"
            )

    wrong = ledger_mismatches()
    print(f"Ledger check: {len(ids)} businesses, {len(wrong)} mismatched balances")
    return 1 if wrong else 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
