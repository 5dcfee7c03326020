"""A live server for the browser test: `runserver` in its own process on a fresh database of its
own on the test server (created here, dropped at the end), with the Paystack sandbox, the Stripe
stand-in and the AI provider stand-in on, set up by `setup_demo` and started exactly as
`make run` starts them."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import requests
from playwright.sync_api import expect

from testing.db import fresh_database, real_settings_env

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
# How long an action or an `expect` waits for the page (Playwright's own default for `expect` is
# 5 s, too short for a server on a busy CI machine; the page's actions get the same 20 s).
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


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
    env = real_settings_env(
        drop=outer,
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
        # The browser tests sign up and log in more than the default 10 a minute, all from
        # 127.0.0.1 (the throttle itself is tested in accounts/tests).
        THROTTLE_RATE_AUTH="1000/min",
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


# One browser for the e2e package (not the session: its event loop must not outlive the e2e tests).
@pytest.fixture(scope="package")
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


# On the demo page, whatever its Content-Security-Policy refuses (an inline script or style, eval,
# a resource from another origin) is reported, and fails the test.
REPORT_POLICY_VIOLATIONS = """
if (location.pathname.startsWith("/demo/")) {
  document.addEventListener("securitypolicyviolation", (event) => {
    window.reportProblem(
      "Content-Security-Policy " + event.violatedDirective + " refused " +
        (event.blockedURI || "an inline resource") + " on " + location.pathname
    );
  });
}
"""


@pytest.fixture
def page(browser):
    """A tab in a fresh browser context. The test fails if a page's script throws uncaught or the
    demo page breaks its Content-Security-Policy."""
    context = browser.new_context()
    problems = []

    def report(problem: str) -> None:
        problems.append(problem)

    context.expose_function("reportProblem", report)
    context.add_init_script(REPORT_POLICY_VIOLATIONS)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"uncaught on {tab.url}: {error}"))
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    token: str
    user_id: int
    business_id: int
    business_name: str


@pytest.fixture(scope="session")
def sign_up(live_app):
    """sign_up(prefix) -> a new Account on the live app, registered through the API (each test
    gets users of its own)."""
    base, _ = live_app

    def create(prefix: str = "user") -> Account:
        username = f"{prefix}{uuid.uuid4().hex[:8]}"
        password = "kente-cloth-42"
        answer = requests.post(
            f"{base}/accounts/api/auth/register/",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": password,
                "business_name": f"{prefix.title()}'s Shop",
            },
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        business = body["business"]
        return Account(
            username, password, body["token"], body["user"]["id"], business["id"], business["name"]
        )

    return create


@pytest.fixture
def open_signed_in(live_app, page):
    """open_signed_in(account, path="/demo/"): the page at `path`, logged in as `account` (its
    token in the page's storage, where a login puts it)."""
    base, _ = live_app

    def open_page(account: Account, path: str = "/demo/"):
        page.goto(f"{base}/static/demo_spa/style.css")  # this origin, without starting the app
        page.evaluate("token => localStorage.setItem('aiCreditsToken', token)", account.token)
        page.goto(f"{base}{path}")

    return open_page


@pytest.fixture
def register(live_app, page):
    """register(username) -> its token: a new account made on the demo page's own form."""
    base, _ = live_app

    def sign_up_on_page(username: str, business: str | None = None) -> str:
        page.goto(f"{base}/demo/")
        page.fill("#reg-username", username)
        page.fill("#reg-email", f"{username}@example.com")
        page.fill("#reg-password", "kente-cloth-42")
        page.fill("#reg-business", business or f"{username.title()}'s Shop")
        page.locator("#register-form button[type=submit]").click()
        page.wait_for_selector("#pd-form")
        expect(page.locator("#session-user")).to_have_text(username)
        return page.evaluate("localStorage.getItem('aiCreditsToken')")

    return sign_up_on_page


@pytest.fixture
def api_requests(page):
    """Every request the page sends to the API, in order (Playwright Request objects)."""
    sent = []
    page.on("request", lambda request: sent.append(request) if "/api/" in request.url else None)
    return sent


@pytest.fixture(scope="session")
def start_purchase(live_app):
    """start_purchase(account) -> the API's answer: the starter pack bought with mobile money,
    through the API as the page buys it; pending until paid."""
    base, _ = live_app

    def start(account: Account) -> dict:
        started = requests.post(
            f"{base}/ai/api/credits/purchase/",
            json={
                "package": "starter",
                "payment_method": "mobile_money",
                "callback_url": f"{base}/demo/payment/callback",
            },
            headers={
                "Authorization": f"Token {account.token}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            timeout=10,
        )
        assert started.status_code == 201, started.text
        return started.json()

    return start


@pytest.fixture(scope="session")
def buy_starter_pack(live_app, start_purchase):
    """buy_starter_pack(account): its business buys the starter pack (30 credits) and pays on the
    Paystack sandbox's checkout, over HTTP, as the checkout page would."""
    base, _ = live_app

    def buy(account: Account) -> None:
        started = start_purchase(account)
        checkout = requests.Session()
        page = checkout.get(started["authorization_url"], timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        paid = checkout.post(
            page.url,
            data={"csrfmiddlewaretoken": csrf, "action": "pay"},
            allow_redirects=False,
            timeout=10,
        )
        assert paid.status_code == 302, paid.text
        verified = requests.get(  # back on the callback page, the page verifies
            f"{base}/ai/api/credits/verify/",
            params={"reference": started["reference"]},
            headers={"Authorization": f"Token {account.token}"},
            timeout=10,
        )
        assert verified.status_code == 200, verified.text

    return buy


@pytest.fixture(scope="session")
def add_member(live_app):
    """add_member(account, business_id, role): makes the account a member of another business."""
    _, database_url = live_app

    def add(account: Account, business_id: int, role: str = "staff") -> None:
        with psycopg2.connect(database_url) as db, db.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_businessmembership (user_id, business_id, role, created_at) "
                "VALUES (%s, %s, %s, now())",
                [account.user_id, business_id, role],
            )
        db.close()

    return add
