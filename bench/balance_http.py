"""Benchmark: GET /ai/api/credits/balance/ against a bare DRF token-auth view reading the same
row, both served by one gunicorn (4 sync workers, DEBUG off) in the same run.

    .venv/bin/python bench/balance_http.py [--seconds 5] [--repeat 3] [--clients 8]

It rebuilds its own database (BENCH_HTTP_DATABASE_URL, else BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/ai_credits_http_bench), seeds one business with a token and a
balance, starts gunicorn on 127.0.0.1 with bench/bare_settings.py (the app's settings, with
bench/bare_balance.py as URLconf), and alternates the two paths, --repeat runs each of
--seconds at --clients concurrent clients (two client processes, a new connection per request
as sync workers close them). It prints requests per second (medians) and their ratio, the load
average before and after, then runs `reconcile_ai_payments --check-ledger` and stops gunicorn.
Asserts no speed.
"""

import argparse
import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DATABASE_URL = (
    os.environ.get("BENCH_HTTP_DATABASE_URL")
    or os.environ.get("BENCH_DATABASE_URL")
    or "postgres://postgres@127.0.0.1:5432/ai_credits_http_bench"
)
ENV = {
    **os.environ,
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": "false",
    "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "benchmark-only-secret"),
    "SANDBOX": "false",
    "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT}",
}
APP_PATH = "/ai/api/credits/balance/"
MAX_REQUESTS_PER_THREAD = 200_000  # the deadline stops every loop first; this bounds it anyway


def recreate_database() -> None:
    import psycopg2

    parts = urlsplit(DATABASE_URL)
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        name = parts.path.lstrip("/")
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


SEED = """
from rest_framework.authtoken.models import Token
from accounts.services import business_register
from ai_features.credits.credits import credits_add
token, business = business_register(username="bench", email="bench@example.com",
    password="bench-Pass-1234", business_name="Bench shop")
credits_add(business=business, amount="1000000", kind="grant")
print("SEEDED", token.key, business.pk)
"""


def manage(*args: str, env: dict) -> str:
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _client(port, path, headers, seconds, threads, barrier, results, slot) -> None:
    counts, errors = [0] * threads, [0] * threads

    def loop(index):
        stop = time.monotonic() + seconds
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() >= stop:
                break
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    counts[index] += 1
                else:
                    errors[index] += 1
            except OSError:
                errors[index] += 1
            finally:
                connection.close()

    barrier.wait()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results[2 * slot] = sum(counts)
    results[2 * slot + 1] = sum(errors)


def measure(port, path, headers, seconds, clients) -> tuple[float, int]:
    """Requests per second answered 200 by `clients` concurrent clients; and the errors."""
    context = multiprocessing.get_context("fork")
    processes = 2 if clients % 2 == 0 else 1
    barrier = context.Barrier(processes + 1)
    results = context.Array("l", 2 * processes)
    workers = [
        context.Process(
            target=_client,
            args=(port, path, headers, seconds, clients // processes, barrier, results, slot),
        )
        for slot in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.monotonic()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    return sum(results[0::2]) / elapsed, sum(results[1::2])


def load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    recreate_database()
    app_env = {**ENV, "DJANGO_SETTINGS_MODULE": "pos.settings"}
    manage("migrate", "--noinput", env=app_env)
    seeded = manage("shell", "-c", SEED, env=app_env).split("SEEDED")[-1]
    key, business_id = seeded.split()[:2]
    port = free_port()
    server_env = {**ENV, "DJANGO_SETTINGS_MODULE": "bare_settings"}
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "pos.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--timeout",
            "30",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        env=server_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the request log: one line a request, not worth the disk
        start_new_session=True,
    )
    try:
        headers = {"Authorization": f"Token {key}", "X-Forwarded-Proto": "https"}
        paths = {
            "app": APP_PATH,
            "bare": f"/ai/api/bench-bare-balance/?business={business_id}",
        }
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", paths["app"], headers=headers)
                status = probe.getresponse().status
                probe.close()
                if status == 200:
                    break
                raise RuntimeError(f"the app answered {status}")
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for path in paths.values():  # warm every worker: imports, connections, caches
            measure(port, path, headers, 1.0, args.clients)

        print(
            f"gunicorn {args.workers} sync workers, DEBUG off, {args.clients} clients, "
            f"{args.seconds:g} s a run, median of {args.repeat}; load average before: {load()}"
        )
        rates = {name: [] for name in paths}
        errors = 0
        for _ in range(args.repeat):
            for name, path in paths.items():
                rate, failed = measure(port, path, headers, args.seconds, args.clients)
                rates[name].append(rate)
                errors += failed
        app, bare = (statistics.median(rates[name]) for name in ("app", "bare"))
        print(f"balance GET (app)       {app:>7.0f} rps   runs: {_runs(rates['app'])}")
        print(f"bare DRF token view     {bare:>7.0f} rps   runs: {_runs(rates['bare'])}")
        print(f"ratio app / bare        {app / bare:>7.2f}   non-200 answers: {errors}")
        print(f"load average after: {load()}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(manage("reconcile_ai_payments", "--check-ledger", env=app_env).strip())
    return 0


def _runs(values) -> str:
    return " ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
