"""Benchmark: does a slow AI provider starve the service? The balance read's latency while AI
feature calls wait seconds on the provider, served as `make serve` serves.

    .venv/bin/python bench/slow_provider.py [--seconds 20] [--delay 5] [--in-flight 8]
                                            [--clients 1 4] [--sync]

It rebuilds its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_ai_slow) with one business holding plenty of credits,
starts bench/provider_standin.py answering every chat completion after `--delay` seconds, and
runs `make serve`'s own commands (read from `make --dry-run serve`), DEBUG off. `--sync` swaps
gunicorn's worker class for the sync worker (same worker count, no threads): the "before".

It prints the balance GET's figures (answers, req/s, p50/p95/p99/max latency) for each
`--clients` count: alone for 5 s; then, with `--in-flight` product-description calls kept
waiting on the provider, for the first `--delay` seconds (workers still cold; first count
only), and for `--seconds` once they are warm; then the feature calls' own figures, and finally
the ledger check and that the database charged exactly the calls that answered 200. It exits
non-zero only if that check fails. Not a test: nothing here asserts a speed.
"""

import argparse
import os
import sys

from serving import (
    Load,
    Processes,
    balance_call,
    feature_call,
    ledger_check,
    machine,
    print_table,
    provider_start,
    serve,
    server_env,
    server_errors,
)

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_ai_slow")
IDLE_SECONDS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per figure (default 20)")
    parser.add_argument("--delay", type=float, default=5.0, help="provider seconds per answer")
    parser.add_argument("--in-flight", type=int, default=8, help="feature calls kept waiting")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="balance readers")
    parser.add_argument("--sync", action="store_true", help="sync workers instead of gthread")
    args = parser.parse_args()

    with Processes() as processes:
        env = server_env(BENCH_URL, provider_start(processes, args.delay), processes.workdir)
        port, token = serve(processes, env, sync=args.sync)
        print(machine(env["DATABASE_URL"]))
        balance = balance_call(port, token)
        Load(balance, 4, 2.0).run()  # every worker has imported the app and opened its connection

        rows = [
            ("balance GET, no feature calls", c, Load(balance, c, IDLE_SECONDS).run())
            for c in args.clients
        ]
        # Stopped once the balance figures are in; the time bound is only a backstop.
        backstop = args.delay + (args.seconds + 1) * len(args.clients)
        features = Load(feature_call(port, token), args.in_flight, backstop).start()
        # A worker's first feature call also builds the SDK client and its response models
        # (~0.2 s of CPU, while other workers do the same): a cost paid once per worker start,
        # shown on its own line so that the steady figures below are not a mix of both.
        label = f"balance GET, {args.in_flight} calls, cold workers"
        rows.append((label, args.clients[0], Load(balance, args.clients[0], args.delay).run()))
        for clients in args.clients:
            label = f"balance GET, {args.in_flight} calls in flight"
            rows.append((label, clients, Load(balance, clients, args.seconds).run()))
        features.stop()
        feature_figures = features.join()
        rows.append((f"feature POST ({args.delay:g} s provider)", args.in_flight, feature_figures))

        print()
        print_table(f"{'sync' if args.sync else 'gthread'} workers", rows)
        print(f"Server error lines logged: {server_errors(processes)}")
        ok = ledger_check(env, feature_successes=feature_figures.count)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
