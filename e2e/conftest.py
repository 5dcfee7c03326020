"""A live server for the browser test: `runserver` in its own process on a fresh database of its
own on the test server (created here, dropped at the end), with the Paystack sandbox, the Stripe
stand-in and the AI provider stand-in on, set up by `setup_demo` and started exactly as
`make run` starts them."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from testing.db import fresh_database

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """Base URL of a running app, and the URL of its database."""
    with fresh_database("e2e") as database_url:
        yield from _serve(tmp_path_factory.mktemp("e2e"), database_url)


def _serve(folder: Path, database_url: str):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # AI_ and STRIPE_ too: a developer's real keys must never reach the test (nor their prices).
    outer = ("DJANGO_", "PAYSTACK_", "STRIPE_", "DATABASE_", "PYTEST", "THROTTLE_", "AI_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(outer)}
    env.update(
        DJANGO_SETTINGS_MODULE="pos.settings",
        DEBUG="true",
        DATABASE_URL=database_url,
        SANDBOX="true",
        PAYSTACK_SECRET_KEY="sk_test_e2e_sandbox",
        PAYSTACK_PUBLIC_KEY="pk_test_e2e_sandbox",
        PAYSTACK_BASE_URL=f"{base}/sandbox/paystack",
        PAYSTACK_SANDBOX_WEBHOOK_URL=f"{base}/ai/api/webhooks/paystack/",
        # The Stripe stand-in, as `make run` points the app at it.
        STRIPE_SECRET_KEY="sk_test_e2e",
        STRIPE_WEBHOOK_SECRET="whsec_e2e",
        STRIPE_API_BASE=f"{base}/sandbox/stripe",
        STRIPE_SANDBOX_WEBHOOK_URL=f"{base}/ai/api/webhooks/stripe/",
        # The sandbox's stand-in answers the AI provider's API, deterministically.
        AI_PROVIDER_BASE_URL=f"{base}/sandbox/openai/v1",
        AI_PROVIDER_API_KEY="sk-sandbox-e2e",
        FRONTEND_URL=f"{base}/demo",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Whatever a developer's .env says, the demo's own origin is the one that counts here.
        PAYMENT_CALLBACK_ALLOWED_HOSTS="127.0.0.1",
        CORS_ALLOWED_ORIGINS=base,
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (["migrate", "--noinput", "-v0"], ["setup_demo", "--base-url", base]):
        # setup_demo gives the packages USD prices and syncs them to the Stripe stand-in.
        subprocess.run([*manage, *step], env=env, cwd=ROOT, check=True, timeout=120)
    log = open(folder / "runserver.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, ended with the session below
    )
    try:
        _wait_for(f"{base}/healthz", server)
        yield base, database_url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")  # not session: its event loop must not outlive the e2e tests
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        reason = "needs Debian's Chromium at /usr/bin/chromium (.ci/run installs it with apt)"
        if os.environ.get("E2E_REQUIRED"):  # CI must run it, never skip it quietly
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
