"""scripts/devdb, the project's own PostgreSQL server for `make run` and `make test`."""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dj_database_url
import psycopg2

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "devdb"
SHORT = Path("/tmp")  # noqa: S108 (where the script puts a socket folder it checks itself)


def load_devdb():
    loader = importlib.machinery.SourceFileLoader("devdb", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("devdb", loader))
    loader.exec_module(module)
    return module


def test_the_socket_is_in_the_checkout_when_its_path_is_short():
    devdb = load_devdb()

    assert devdb.socket_dir(Path("/work/pos")) == Path("/work/pos/.pgdata")
    assert devdb.url(Path("/work/pos")) == "postgres://postgres@%2Fwork%2Fpos%2F.pgdata:5432/pos"


def test_a_deep_or_odd_checkout_gets_a_short_socket_folder_named_by_its_hash():
    devdb = load_devdb()
    deep = Path("/home/ama/" + "very-long-folder-name/" * 5 + "pos")
    odd = Path("/home/ama/pos, the shop")

    for checkout in (deep, odd):
        folder = devdb.socket_dir(checkout)
        assert folder.parent == SHORT and folder.name.startswith("pos-devdb-")
        assert len(os.fsencode(folder / ".s.PGSQL.5432")) <= 107
    assert devdb.socket_dir(deep) != devdb.socket_dir(odd)
    assert devdb.socket_dir(deep) == devdb.socket_dir(deep)  # the same checkout, the same folder


def test_the_url_reads_back_as_the_socket_folder_port_and_database():
    devdb = load_devdb()
    checkout = Path("/home/Ama/Projects/pos")

    parsed = dj_database_url.parse(devdb.url(checkout))

    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"], parsed["USER"]) == (
        "/home/Ama/Projects/pos/.pgdata",
        5432,
        "pos",
        "postgres",
    )


def test_concurrent_starts_share_one_server_that_ignores_pg_variables(tmp_path):
    """In a deep checkout of its own: three starts at once and a fourth after them start one
    server, which PGHOST, PGPORT, PGUSER and PGDATABASE pointing elsewhere do not move."""
    checkout = tmp_path / ("a-checkout-folder-with-a-long-name-" * 3) / "pos"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, checkout / "scripts" / "devdb")
    env = {
        **os.environ,
        "PGHOST": "127.0.0.9",
        "PGPORT": "1",
        "PGUSER": "nobody-here",
        "PGDATABASE": "nothing-here",
        "PGSERVICE": "nothing-here",
    }

    def devdb(*args):
        return subprocess.run(
            [sys.executable, "scripts/devdb", *args],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    try:
        with ThreadPoolExecutor(3) as pool:
            starts = list(pool.map(lambda _: devdb("start"), range(3)))
        pid = (checkout / ".pgdata" / "data" / "postmaster.pid").read_text().split()[0]
        again = devdb("start")
        answer = devdb("psql", "-XAtc", "SELECT current_database(), current_user")

        for done in [*starts, again]:
            assert done.returncode == 0, done.stderr
        urls = {done.stdout.strip() for done in [*starts, again]}
        assert len(urls) == 1
        url = urls.pop()
        assert url == devdb("url").stdout.strip()
        host = dj_database_url.parse(url)["HOST"]
        assert host.startswith(f"{SHORT}/pos-devdb-")  # the checkout's own path is too long
        assert (checkout / ".pgdata" / "data" / "postmaster.pid").read_text().split()[0] == pid
        assert log_count(checkout, "database system is ready to accept connections") == 1
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.strip() == "pos|postgres"
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW listen_addresses")
            assert cursor.fetchone() == ("",)  # the socket only: no TCP port to clash
        connection.close()
    finally:
        stopped = devdb("stop")
        shutil.rmtree(load_devdb().socket_dir(checkout.resolve()), ignore_errors=True)
    assert stopped.returncode == 0, stopped.stderr
    assert not (checkout / ".pgdata" / "data" / "postmaster.pid").exists()
    assert (checkout / ".pgdata" / "data" / "PG_VERSION").exists()  # the data stays


def log_count(checkout: Path, line: str) -> int:
    return (checkout / ".pgdata" / "server.log").read_text().count(line)
