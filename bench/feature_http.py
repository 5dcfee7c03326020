"""Benchmark: the metered AI feature call over HTTP, next to the balance read, served as
`make serve` serves and with a provider that answers at once.

    .venv/bin/python bench/feature_http.py [--seconds 10] [--clients 1 8] [--sync]

It rebuilds its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_ai_http) with one business holding enough credits for
every call, starts bench/provider_standin.py with no delay, and runs `make serve`'s own
commands (read from `make --dry-run serve`), DEBUG off. For each `--clients` count it runs
product-description POSTs for `--seconds` (no Idempotency-Key: each is a hold, a provider call
and a settle), then balance GETs for as long, and prints both as a table: answers, requests per
second, p50/p95/p99/max latency; then the CPU each request cost the server, PostgreSQL (the
processes working for the bench's database), the stand-in provider and this load generator,
which all share the machine. It ends with the ledger check, and that the database charged
exactly the calls that answered 200; it exits non-zero only if that check fails. Not a test:
nothing here asserts a speed. `--sync` serves with gunicorn's sync worker instead (same worker
count, no threads), to see what the threads cost when nothing is slow.
"""

import argparse
import os
import sys

from serving import (
    DatabaseProcesses,
    Load,
    Processes,
    balance_call,
    cpu_per_request,
    cpu_seconds,
    feature_call,
    ledger_check,
    machine,
    print_table,
    provider_start,
    serve,
    server_env,
    server_errors,
)

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_ai_http")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per figure (default 10)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--sync", action="store_true", help="sync workers instead of gthread")
    args = parser.parse_args()

    with Processes() as processes:
        env = server_env(BENCH_URL, provider_start(processes, delay=0), processes.workdir)
        port, token = serve(processes, env, sync=args.sync)
        print(machine(env["DATABASE_URL"]))
        balance, feature = balance_call(port, token), feature_call(port, token)
        # Every worker imports the app, opens its connection and builds its SDK client first.
        warm_up = Load(feature, 8, 2.0).run()
        Load(balance, 4, 1.0).run()

        rows, cpu, charged = [], [], warm_up.count
        database = DatabaseProcesses(env["DATABASE_URL"])
        for clients in args.clients:
            for label, call in (
                ("feature POST (product description)", feature),
                ("balance GET", balance),
            ):
                before = cpu_seconds(processes, database)
                figures = Load(call, clients, args.seconds).run()
                after = cpu_seconds(processes, database)
                cpu.append((label, clients, cpu_per_request(before, after, figures.count)))
                rows.append((label, clients, figures))
                if call is feature:
                    charged += figures.count
        database.close()

        print()
        print_table(f"{'sync' if args.sync else 'gthread'} workers, instant provider", rows)
        print()
        print_cpu("CPU per request, ms", cpu)
        print(f"Server error lines logged: {server_errors(processes)}")
        ok = ledger_check(env, feature_successes=charged)
    return 0 if ok else 1


def print_cpu(title: str, rows: list[tuple[str, int, dict]]) -> None:
    """Where a request's CPU went: every party shares this machine's cores, so when they are
    full a rate is the cores divided by the total."""
    parties = list(rows[0][2])
    print(f"{title:<35} {'clients':>7} " + " ".join(f"{name:>14}" for name in parties) + "   total")
    for label, clients, used in rows:
        cells = " ".join(f"{used[name]:>14.2f}" for name in parties)
        print(f"{label:<35} {clients:>7} {cells} {sum(used.values()):>7.2f}")


if __name__ == "__main__":
    sys.exit(main())
