"""What the HTTP benches share: a fresh PostgreSQL database, the stand-in provider, gunicorn started
the way `make serve` starts it, a load generator that records latencies, and the ledger check.

Not run by itself; see bench/slow_provider.py and bench/feature_http.py. Everything here talks to
127.0.0.1 only, and every process it starts runs in its own process group and is stopped on exit.
"""

import contextlib
import http.client
import json
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MAKE = shutil.which("make") or "make"
GRANT = Decimal("1000000.00")
BALANCE_PATH = "/ai/api/credits/balance/"
FEATURE = "product_description"
FEATURE_PATH = "/ai/api/features/product-description/"
# bench/metering_pass_through.py's view: the same call with no metering.
UNMETERED_PATH = "/ai/api/bench-pass-through/product-description/"
FEATURE_BODY = json.dumps(
    {
        "product_name": "Kente tote bag",
        "category": "Bags",
        "features": ["hand-woven in Bonwire", "cotton lining"],
        "tone": "friendly",
        "max_words": 60,
    }
).encode()
# Every load loop stops at its deadline; this only bounds a loop whose server answers instantly.
MAX_REQUESTS_PER_CLIENT = 200_000


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def machine(database_url: str) -> str:
    """What the figures were measured on, with the load average: other work on the machine
    takes CPU from the server and the load generator alike."""
    with open("/proc/meminfo") as meminfo:
        kib = int(meminfo.readline().split()[1])
    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (postgres,) = cursor.fetchone()
    finally:
        connection.close()
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {kib / 2**20:.0f} GiB; Python {platform.python_version()}; "
        f"PostgreSQL {postgres}; load average {load}"
    )


def server_env(database_url: str, provider_port: int, workdir: Path) -> dict:
    """The environment of `make serve` in production, pointed at the bench database and provider."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AI_", "PAYSTACK_", "THROTTLE_", "DJANGO_", "SECURE_"))
    }
    env.update(
        DEBUG="false",
        SANDBOX="false",
        DJANGO_SECRET_KEY="bench-only-secret-not-for-production",  # noqa: S106
        DATABASE_URL=database_url,
        STATIC_ROOT=str(workdir / "static"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        AI_PROVIDER_BASE_URL=f"http://127.0.0.1:{provider_port}/v1",
        AI_PROVIDER_API_KEY="sk-bench-not-real",
        # The per-business feature limit (30/min) would turn the bench into a throttle test.
        THROTTLE_RATE_AI="100000/min",
        # Plain HTTP on 127.0.0.1: no redirect to HTTPS, no HSTS.
        SECURE_SSL="false",
    )
    return env


def run(command: list[str], env: dict, *, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 (our own commands, fixed arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if check and done.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}"[-3000:])
    return done


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([PYTHON, "manage.py", *args], env, check=check)


SEED = f"""
import secrets
from decimal import Decimal
from accounts.services import business_register
from ai_features.credits.grants import credits_grant
token, business = business_register(
    username="bench", email="bench@example.com", password=secrets.token_urlsafe(),
    business_name="Bench shop",
)
credits_grant(business=business, credits=Decimal("{GRANT}"), package="bench")
print(token.key)
"""


def serve_plan(port: int, *, sync: bool) -> tuple[list[list[str]], list[str]]:
    """`make serve`'s own commands, read from `make --dry-run` so that tuning the Makefile
    retunes the bench: the manage.py steps it runs first, and its gunicorn line. With `sync`,
    that line runs sync workers instead, which gunicorn only does when no --threads is given."""
    plan = subprocess.run(  # noqa: S603
        [MAKE, "--dry-run", "--no-print-directory", "serve", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.replace("\\\n", " ")
    commands = [shlex.split(line) for line in plan.splitlines()]
    steps = [command for command in commands if "manage.py" in command]
    gunicorn = next(command for command in commands if command[0].endswith("/gunicorn"))
    if sync:
        at = gunicorn.index("--threads")
        del gunicorn[at : at + 2]
        gunicorn[gunicorn.index("--worker-class") + 1] = "sync"
    return steps, gunicorn


def serve(processes: "Processes", env: dict, *, sync: bool) -> tuple[int, str]:
    """Serve the app as `make serve` does, on a rebuilt bench database holding one business with
    plenty of credits: the server's port, once it answers, and the business owner's API token."""
    port = free_port()
    steps, gunicorn = serve_plan(port, sync=sync)
    recreate_database(env["DATABASE_URL"])
    for step in steps:
        run(step, env)
    token = manage(env, "shell", "-c", SEED).stdout.split()[-1]
    print("server:", shlex.join(gunicorn))
    server = processes.start("server", gunicorn, env=env)
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(OSError):
            status, _ = send(port, "GET", BALANCE_PATH, token, timeout=5)
            if status == 200:
                return port, token
        time.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer the balance with 200 (last status {status}; a 301 would be "
        f"an HTTPS redirect):\n{processes.log('server')[-3000:]}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Processes started for one run, each in its own session so that stopping it also stops
    its children (gunicorn's workers); all are stopped when the `with` block ends."""

    def __init__(self):
        self.started: list[subprocess.Popen] = []
        self.named: dict[str, subprocess.Popen] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))  # logs, collected static files

    def __enter__(self):
        # SIGTERM (from `timeout`, say) would end Python without running __exit__, leaving
        # gunicorn and the provider running in their own sessions; make it unwind instead.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        return self

    def __exit__(self, *exc):
        for process in reversed(self.started):
            stop(process)
        shutil.rmtree(self.workdir)

    def start(self, name: str, command: list[str], env: dict | None = None, **kwargs):
        # A log file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
        with open(self.workdir / f"{name}.log", "wb") as log:
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT,
                env=env,
                stdout=kwargs.pop("stdout", log),
                stderr=log,
                start_new_session=True,
                **kwargs,
            )
        self.started.append(process)
        self.named[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=25)  # gunicorn's --graceful-timeout is 20 s
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class DatabaseProcesses:
    """The PostgreSQL processes that work for one database, asked of pg_stat_activity at each
    reading: its backends (and their parallel workers and autovacuum), the server's background
    processes (WAL writer, checkpointer and the like, which serve every database) and the
    postmaster; not other databases' backends on the same server, such as a test run's. Only
    a server on this machine can be read: elsewhere there is no such process here."""

    def __init__(self, database_url: str):
        self.connection = psycopg2.connect(database_url)
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()
        try:  # a backend's parent is the postmaster
            stat = (Path("/proc") / str(backend) / "stat").read_text()
            self.postmaster = int(stat[stat.rindex(")") + 2 :].split()[1])
        except OSError:
            self.postmaster = None

    def pids(self) -> set[int]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND (datname = current_database() OR datname IS NULL)"
            )
            found = {pid for (pid,) in cursor.fetchall()}
        return found | ({self.postmaster} if self.postmaster else set())

    def close(self) -> None:
        self.connection.close()


def cpu_seconds(
    processes: Processes, database: DatabaseProcesses | None = None
) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each party to a run, all on this machine:
    each started process with its children (gunicorn's workers: one session each), PostgreSQL
    and this load generator. PostgreSQL is the processes of `database` when given, else every
    `postgres` process on the machine (background work and other databases' too, so run it on
    a quiet machine). Exited processes no longer count: take it while the server runs. Linux
    only (/proc)."""
    sessions = {process.pid: name for name, process in processes.named.items()}
    postgres = database.pids() if database else None
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys([*processes.named, "postgresql"], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        command, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = rest.split()
        ours = command == "postgres" if postgres is None else int(entry.name) in postgres
        # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        name = sessions.get(int(fields[3])) or ("postgresql" if ours else None)
        if name:
            used[name] += (int(fields[11]) + int(fields[12])) / tick
    mine = os.times()
    used["load generator"] = mine.user + mine.system
    return used


def cpu_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """Milliseconds of CPU a request cost each party between two `cpu_seconds` readings."""
    return {name: (after[name] - before[name]) * 1000 / max(requests, 1) for name in after}


def provider_start(processes: Processes, delay: float) -> int:
    """Start bench/provider_standin.py; the port it listens on."""
    command = [PYTHON, str(ROOT / "bench" / "provider_standin.py"), "--delay", str(delay)]
    process = processes.start("provider", command, stdout=subprocess.PIPE)
    first = process.stdout.readline().decode()
    process.stdout.close()
    if not first.startswith("port "):
        raise RuntimeError(f"the stand-in provider did not start:\n{processes.log('provider')}")
    return int(first.split()[1])


def send(port: int, method: str, path: str, token: str, body=None, timeout=30.0):
    """One request on a new connection, as a proxy that opens one per request sends it (nginx's
    default); its status and the seconds until the whole answer was read."""
    headers = {"Authorization": f"Token {token}", "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started


def balance_call(port: int, token: str):
    return lambda: send(port, "GET", BALANCE_PATH, token)


def feature_call(port: int, token: str):
    return lambda: send(port, "POST", FEATURE_PATH, token, body=FEATURE_BODY)


@dataclass
class Figures:
    """Latencies (seconds) of the 200 answers and a count of everything else, over `elapsed`."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank, so p99 is a latency some request really had."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    def errors(self) -> str:
        # Statuses and exception names side by side: sorted as text.
        counts = sorted(self.failures.items(), key=lambda item: str(item[0]))
        return ", ".join(f"{n}x {what}" for what, n in counts) or "0"


class Load:
    """`clients` threads, each sending `call()` back to back until `seconds` have passed or
    stop() is called. A request under way at the end is waited for and counted."""

    def __init__(self, call, clients: int, seconds: float):
        self.call, self.seconds = call, seconds
        self.figures = Figures()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        # Daemons: a run cut short must not wait for its clients to reach their deadlines.
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> "Load":
        self._started = time.monotonic()
        self._deadline = self._started + self.seconds
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def join(self) -> Figures:
        for thread in self._threads:
            thread.join()
        self.figures.elapsed = time.monotonic() - self._started
        return self.figures

    def run(self) -> Figures:
        return self.start().join()

    def _client(self) -> None:
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if self._stopped.is_set() or time.monotonic() >= self._deadline:
                return
            try:
                status, seconds = self.call()
            except (OSError, http.client.HTTPException) as exc:  # counted; the loop goes on
                status, seconds = type(exc).__name__, None
            with self._lock:
                if status == 200:
                    self.figures.latencies.append(seconds)
                else:
                    self.figures.failures[status] += 1


def ledger_check(env: dict, *, feature_successes: int) -> bool:
    """The ledger invariant (reconcile_ai_payments --check-ledger), and that the database charged
    exactly the feature calls the clients saw succeed, with no hold left behind."""
    check = manage(env, "reconcile_ai_payments", "--check-ledger", check=False)
    print(f"Ledger check: {(check.stdout + check.stderr).strip()}")
    connection = psycopg2.connect(env["DATABASE_URL"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, count(*) FROM ai_transactions GROUP BY status")
            by_status = dict(cursor.fetchall())
            cursor.execute("SELECT balance FROM business_ai_credits WHERE is_active")
            (balance,) = cursor.fetchone()
            cursor.execute(
                "SELECT credits FROM ai_features_aifeatureprice WHERE feature = %s", (FEATURE,)
            )
            (price,) = cursor.fetchone()
    finally:
        connection.close()
    completed = by_status.get("completed", 0)
    expected = GRANT - price * feature_successes
    print(
        f"Transactions: {completed} completed ({feature_successes} answered 200), "
        f"{by_status.get('released', 0)} released, {by_status.get('pending', 0)} pending; "
        f"balance {balance} (grant minus {price} per 200: {expected})"
    )
    return (
        check.returncode == 0
        and completed == feature_successes
        and not by_status.get("pending")
        and balance == expected
    )


def print_table(title: str, rows: list[tuple[str, int, Figures]]) -> None:
    """One line per (what, clients, figures); latencies in milliseconds."""
    print(
        f"{title:<34} {'clients':>7} {'answers':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}  errors"
    )
    for label, clients, figures in rows:
        ms = [figures.percentile(p) * 1000 for p in (50, 95, 99, 100)]
        print(
            f"{label:<34} {clients:>7} {figures.count:>8} {figures.rate:>7.1f} "
            + " ".join(f"{value:>8.1f}" for value in ms)
            + f"  {figures.errors()}"
        )


def server_errors(processes: Processes) -> int:
    """Error lines the server logged (tracebacks, worker timeouts)."""
    return sum(
        1
        for line in processes.log("server").splitlines()
        if " ERROR " in line or "[CRITICAL]" in line or "[ERROR]" in line
    )
