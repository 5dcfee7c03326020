"""The demo credits page: the HTML shell, its static files, and what app.js relies on."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.urls("demo_spa.tests.urls")

PAGE_IDS = [
    "message",
    "register-form",
    "login-form",
    "reg-username",
    "reg-email",
    "reg-password",
    "reg-business",
    "login-username",
    "login-password",
    "logout-button",
    "business-select",
    "balance-amount",
    "balance-expiry",
    "balance-active",
    "packages",
    "method-mobile_money",
    "method-card",
    "custom-amount",
    "buy-custom",
    "invoice",
    "purchases",
    "transactions",
    "alerts",
    "verify-result",
    "verify-retry",
]

API_PATHS = [
    "/accounts/api/auth/register/",
    "/accounts/api/auth/token/",
    "/accounts/api/auth/logout/",
    "/accounts/api/me/",
    "/ai/api/credits/balance/",
    "/ai/api/credits/packages/",
    "/ai/api/credits/purchase/",
    "/ai/api/credits/verify/",
    "/ai/api/credits/purchases/?limit=10",
    "/ai/api/credits/transactions/?limit=10",
    "/ai/api/credits/alerts/?limit=10",
    "/acknowledge/",
]


def static_text(path: str) -> str:
    found = finders.find(path)
    assert found, f"{path} is not found by the staticfiles finders"
    return Path(found).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def app_js():
    return static_text("demo_spa/app.js")


@pytest.mark.parametrize("url", ["/demo/", "/demo/payment/callback?trxref=X&reference=X"])
def test_page_is_served_with_its_script_styles_and_ids(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert '<script src="/static/demo_spa/app.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/demo_spa/style.css">' in html
    for element_id in PAGE_IDS:
        assert f'id="{element_id}"' in html, element_id
    assert 'data-callback-path="/demo/payment/callback"' in html
    assert '<a id="back-link" href="/demo/">Back to credits</a>' in html


def test_page_sets_no_cookie_and_allows_only_its_own_origin(client):
    response = client.get("/demo/")

    assert not response.cookies  # no CSRF cookie, no session: the page uses a token
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_page_has_no_external_resources_or_inline_script(client):
    html = client.get("/demo/").content.decode()

    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script>" not in html
    assert "style=" not in html


def test_page_answers_only_safe_methods(client):
    assert client.head("/demo/").status_code == 200
    assert client.post("/demo/").status_code == 405


def test_static_files_are_found():
    assert "font-family: system-ui" in static_text("demo_spa/style.css")
    assert "@import" not in static_text("demo_spa/style.css")


def test_app_js_never_writes_html(app_js):
    assert "innerHTML" not in app_js
    assert "outerHTML" not in app_js
    assert "insertAdjacentHTML" not in app_js
    assert "document.write" not in app_js
    assert "eval(" not in app_js


def test_app_js_uses_the_public_api_with_a_token(app_js):
    for path in API_PATHS:
        assert path in app_js, path
    for needle in [
        '"Token " + token',
        '"X-Business-ID"',
        '"Idempotency-Key"',
        "crypto.randomUUID()",
        '"aiCreditsToken"',
        "window.location.assign(url)",
        "window.location.origin + callbackPath()",
        'params.get("reference") || params.get("trxref")',
    ]:
        assert needle in app_js, needle
    assert "http://" not in app_js and "https://" not in app_js  # same origin only


def test_app_js_has_a_text_for_every_verify_answer(app_js):
    for text in [
        '" credits added, new balance "',
        '"Payment already processed: "',
        '" credits were added, balance "',
        '"Payment is still processing…"',
        "Your credits will be added when it completes.",
        '"We could not find this payment."',
        "The payment provider could not be reached. Your payment is safe; try again.",
        '"Log in to check this payment."',
    ]:
        assert text in app_js, text
    for status in ["success", "already", "pending", "failed", "not_found", "error"]:
        assert re.search(rf'setVerify\(\s*"{status}"', app_js), status
    assert "POLL_INTERVAL_MS = 3000" in app_js
    assert "POLL_LIMIT = 10" in app_js


def test_buy_buttons_have_stable_ids(app_js, client):
    assert '"buy-" + code' in app_js
    html = client.get("/demo/").content.decode()
    assert 'id="buy-custom" data-buy="custom"' in html
    assert 'id="method-mobile_money" value="mobile_money" checked' in html


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_app_js_is_valid_javascript():
    node = shutil.which("node")
    script = finders.find("demo_spa/app.js")
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [node, "--check", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
