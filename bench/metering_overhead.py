"""Benchmark: what metering costs an AI feature call. The metered product-description POST against
a pass-through of it with no metering, both served by one server in the same run, with a provider
that answers at once.

    .venv/bin/python bench/metering_overhead.py [--seconds 4] [--clients 1 8] [--sync]

It rebuilds its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_metering) with one business holding enough credits for
every call, starts bench/provider_standin.py with no delay, and runs `make serve`'s own commands
(read from `make --dry-run serve`), DEBUG off, with bench/metering_settings.py as the settings:
the app unchanged, plus the pass-through view of bench/metering_pass_through.py. That view has
the same authentication, throttle, input serializer, SDK call (the same ProviderClient method)
and stand-in provider as the metered call, but no price lookup, hold, settle, ledger, balance
read or idempotency.

For each `--clients` count it sends metered calls (POST /ai/api/features/product-description/,
no Idempotency-Key) and pass-through calls with the same body, `--seconds` each, in two halves
ordered metered, pass-through, pass-through, metered, so that a drift in the machine's load
weighs on both alike. It prints both sides' answers, requests per second and latencies; the CPU
each request cost the server, PostgreSQL, the stand-in and this load generator, read from /proc;
and per clients count the ratio of the rates and the CPU that metering adds to a call: the
metered call's server + PostgreSQL CPU per request minus the pass-through's. Then the ledger
check, and that the database charged exactly the metered calls that answered 200. Its last line
gives the figures of the last `--clients` count (8 by default):

    ratio metered/pass-through: R, metering CPU per call: C ms

Not a test: nothing here asserts a speed. It exits non-zero only if the ledger check fails.
PostgreSQL's CPU is every `postgres` process on the machine, so run it on a quiet machine.
"""

import argparse
import os
import sys
from pathlib import Path

from feature_http import print_cpu
from serving import (
    FEATURE_BODY,
    UNMETERED_PATH,
    DatabaseProcesses,
    Figures,
    Load,
    Processes,
    cpu_seconds,
    feature_call,
    ledger_check,
    machine,
    print_table,
    provider_start,
    send,
    serve,
    server_env,
    server_errors,
)

BENCH = Path(__file__).resolve().parent
BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_metering"
)
METERED, PASS_THROUGH = "metered feature POST", "pass-through POST"
# The parties whose CPU is the service's: what metering adds is counted here.
SERVICE = ("server", "postgresql")


def pass_through_call(port: int, token: str):
    return lambda: send(port, "POST", UNMETERED_PATH, token, body=FEATURE_BODY)


class Side:
    """One side's figures and CPU seconds, summed over the pieces of its run."""

    def __init__(self):
        self.figures = Figures()
        self.cpu: dict[str, float] = {}

    def add(self, figures: Figures, before: dict, after: dict) -> None:
        self.figures.latencies += figures.latencies
        self.figures.failures.update(figures.failures)
        self.figures.elapsed += figures.elapsed
        for name in after:
            self.cpu[name] = self.cpu.get(name, 0.0) + after[name] - before[name]

    def cpu_per_request(self) -> dict[str, float]:
        """Milliseconds of CPU per 200 answer, for each party."""
        return {name: used * 1000 / max(self.figures.count, 1) for name, used in self.cpu.items()}

    def service_ms(self) -> float:
        used = self.cpu_per_request()
        return sum(used[name] for name in SERVICE)


def measure(
    calls: dict, clients: int, seconds: float, processes: Processes, database: DatabaseProcesses
) -> dict[str, Side]:
    """Both sides at `clients` concurrent clients, `seconds` each, in the order A B B A."""
    sides = {label: Side() for label in calls}
    first, second = calls
    for label in (first, second, second, first):
        before = cpu_seconds(processes, database)
        figures = Load(calls[label], clients, seconds / 2).run()
        sides[label].add(figures, before, cpu_seconds(processes, database))
    return sides


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per side (default 4)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--sync", action="store_true", help="sync workers instead of gthread")
    args = parser.parse_args()

    with Processes() as processes:
        env = server_env(BENCH_URL, provider_start(processes, delay=0), processes.workdir)
        env.update(
            DJANGO_SETTINGS_MODULE="metering_settings",
            PYTHONPATH=os.pathsep.join([str(BENCH), str(BENCH.parent)]),
        )
        port, token = serve(processes, env, sync=args.sync)
        print(machine(env["DATABASE_URL"]))
        calls = {METERED: feature_call(port, token), PASS_THROUGH: pass_through_call(port, token)}
        for label, call in calls.items():
            status, _ = call()
            if status != 200:
                raise RuntimeError(
                    f"the {label} answered {status}:\n{processes.log('server')[-3000:]}"
                )
        charged = 1
        # Every worker imports the app, opens its connection and builds its SDK client first.
        charged += Load(calls[METERED], 8, 2.0).run().count
        Load(calls[PASS_THROUGH], 8, 1.0).run()

        database = DatabaseProcesses(env["DATABASE_URL"])
        if database.postmaster is None:
            print("PostgreSQL is not on this machine: its CPU is not counted", file=sys.stderr)
        results = {}
        for clients in args.clients:
            results[clients] = measure(calls, clients, args.seconds, processes, database)
            charged += results[clients][METERED].figures.count
        database.close()

        print()
        print_table(
            f"{'sync' if args.sync else 'gthread'} workers, instant provider",
            [
                (label, clients, side.figures)
                for clients, sides in results.items()
                for label, side in sides.items()
            ],
        )
        print()
        print_cpu(
            "CPU per request, ms",
            [
                (label, clients, side.cpu_per_request())
                for clients, sides in results.items()
                for label, side in sides.items()
            ],
        )
        print(f"Server error lines logged: {server_errors(processes)}")
        ok = ledger_check(env, feature_successes=charged)

        print()
        summary = {}
        for clients, sides in results.items():
            metered, bare = sides[METERED], sides[PASS_THROUGH]
            ratio = metered.figures.rate / bare.figures.rate if bare.figures.rate else float("nan")
            overhead = metered.service_ms() - bare.service_ms()
            summary[clients] = ratio, overhead
            print(
                f"c={clients}: metered {metered.figures.rate:.1f} req/s, pass-through "
                f"{bare.figures.rate:.1f} req/s, ratio {ratio:.2f}; server + PostgreSQL CPU "
                f"per call {metered.service_ms():.2f} ms against {bare.service_ms():.2f} ms: "
                f"metering adds {overhead:.2f} ms"
            )
        ratio, overhead = summary[args.clients[-1]]
        print(f"ratio metered/pass-through: {ratio:.2f}, metering CPU per call: {overhead:.2f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
