"""The demo credits page: the HTML shell, its static files, and what app.js and ai_tools.js rely
on."""

import json
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
    "invoice-continue",
    "invoice-cancel",
    "buy-status",
    "purchases",
    "transactions",
    "alerts",
    "verify-result",
    "verify-retry",
    # The AI tools panel and the usage chart (ai_tools.js).
    "ai-tools",
    "ai-features-status",
    "pd-form",
    "pd-name",
    "pd-category",
    "pd-features",
    "pd-tone",
    "pd-max-words",
    "pd-submit",
    "pd-price",
    "pd-status",
    "pd-result",
    "pd-description",
    "pd-meta",
    "pd-copy",
    "ci-form",
    "ci-customer",
    "ci-purchases",
    "ci-notes",
    "ci-submit",
    "ci-price",
    "ci-status",
    "ci-result",
    "ci-summary",
    "ci-segment",
    "ci-recommendations",
    "ci-meta",
    "buy-section",
    "buy-title",
    "usage-chart-title",
    "usage-chart",
    "usage-chart-summary",
    "usage-chart-details",
    "usage-chart-table",
]

# Each AI tools input has its error slot, named so ai_tools.js finds it.
AI_TOOL_INPUTS = [
    "pd-name",
    "pd-category",
    "pd-features",
    "pd-tone",
    "pd-max-words",
    "ci-customer",
    "ci-purchases",
    "ci-notes",
]
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

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


@pytest.fixture(scope="module")
def ai_tools_js():
    return static_text("demo_spa/ai_tools.js")


@pytest.mark.parametrize(
    "url",
    [
        "/demo/",
        "/demo/payment/callback?trxref=X&reference=X",
        "/demo/payment/callback?gateway=stripe&session_id=cs_test_X",
        "/demo/payment/callback?gateway=stripe&cancelled=1&reference=X",
    ],
)
def test_page_is_served_with_its_script_styles_and_ids(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert '<script src="/static/demo_spa/app.js" defer></script>' in html
    # Deferred scripts run in order: the panel's script must be there when app.js starts.
    tools_tag = '<script src="/static/demo_spa/ai_tools.js" defer></script>'
    assert tools_tag in html
    assert html.index(tools_tag) < html.index("/static/demo_spa/app.js")
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


@pytest.mark.parametrize("name", ["demo_spa/app.js", "demo_spa/ai_tools.js"])
def test_scripts_never_write_html(name):
    script = static_text(name)
    assert "innerHTML" not in script
    assert "outerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script
    assert "eval(" not in script
    assert "new Function" not in script


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
    for status in ["success", "already", "pending", "failed", "not_found", "error", "cancelled"]:
        assert re.search(rf'setVerify\(\s*"{status}"', app_js), status
    assert "POLL_INTERVAL_MS = 3000" in app_js
    assert "POLL_LIMIT = 10" in app_js


def test_packages_with_a_stripe_price_are_also_sold_in_usd_by_card(app_js):
    for needle in [
        'p.gateway === "stripe"',  # from the packages endpoint's `prices`
        '"buy-" + code + "-stripe"',
        '"data-gateway": "stripe"',
        'text: "Pay in " + card.currency + " by card"',
        'gateway: "stripe"',
        # Back to this origin, as callback_url is: Stripe fills in the session id.
        'var back = window.location.origin + callbackPath() + "?gateway=stripe";',
        'success_url: back + "&session_id={CHECKOUT_SESSION_ID}"',
        'cancel_url: back + "&cancelled=1"',
        "safeHttpUrl(data.checkout_url || data.authorization_url)",
    ]:
        assert needle in app_js, needle


def test_the_callback_page_verifies_stripe_by_session_and_names_a_cancel(app_js):
    for needle in [
        'params.get("gateway") === "stripe"',
        'params.get("session_id")',
        '"session_id=" + encodeURIComponent(sessionId)',
        'var url = API.verify + "?" + back.query;',
        'params.get("cancelled") === "1"',
        '"Payment cancelled. No money was taken and no credits were added."',
    ]:
        assert needle in app_js, needle
    # A cancel is shown without asking the server, logged in or not.
    assert "if (showCancelled()) return Promise.resolve();" in app_js
    assert "if (callback && !showCancelled())" in app_js


def test_buy_buttons_have_stable_ids(app_js, client):
    assert '"buy-" + code' in app_js
    html = client.get("/demo/").content.decode()
    assert 'id="buy-custom" data-buy="custom"' in html
    assert 'id="method-mobile_money" value="mobile_money" checked' in html


def test_ai_tools_fields_have_error_slots_and_the_chart_a_text_fallback(client):
    html = client.get("/demo/").content.decode()

    for input_id in AI_TOOL_INPUTS:
        assert f'id="{input_id}-error"' in html, input_id
        assert re.search(rf'id="{input_id}"[^>]*aria-describedby="[^"]*{input_id}-error', html)
    assert 'for="pd-features"' in html and "One per line, or separated by commas" in html
    assert "<code>item, quantity, amount, date</code>" in html
    for tone in ["professional", "friendly", "playful"]:
        assert f'<option value="{tone}"' in html
    assert 'id="pd-max-words" name="max_words" type="number"' in html
    assert 'min="20" max="300"' in html
    assert 'id="ci-notes" name="notes" rows="2" maxlength="1000"' in html
    # Results and errors are announced; the 402 link lands on a focusable heading.
    assert 'id="pd-status" class="tool-status" role="status" aria-live="polite"' in html
    assert 'id="ci-status" class="tool-status" role="status" aria-live="polite"' in html
    assert '<h2 id="buy-title" tabindex="-1">Buy credits</h2>' in html
    assert '<figcaption id="usage-chart-title"' in html
    assert "<summary>Show as a table</summary>" in html


def test_ai_tools_js_uses_the_feature_api_and_only_this_origin(ai_tools_js):
    for path in [
        '"/ai/api/features/"',
        '"/ai/api/features/product-description/"',
        '"/ai/api/features/customer-insight/"',
        '"/ai/api/credits/usage/daily/"',
    ]:
        assert path in ai_tools_js, path
    assert '{ "Idempotency-Key": key }' in ai_tools_js
    assert "ctx.newIdempotencyKey()" in ai_tools_js
    assert 'href: "#buy-section"' in ai_tools_js
    # The chart is drawn here, not fetched: the only URL is the SVG namespace.
    rest = ai_tools_js.replace(SVG_NAMESPACE, "")
    assert "http://" not in rest and "https://" not in rest
    assert "fetch(" not in ai_tools_js  # every call goes through app.js's api() (token, business)
    assert 'role: "img"' in ai_tools_js
    assert '"aria-labelledby": "usage-chart-title usage-chart-summary"' in ai_tools_js


def test_app_js_creates_the_ai_tools_panel_with_its_api(app_js):
    assert "window.AITools.create({" in app_js
    assert "api: api," in app_js
    assert "aiTools ? aiTools.load() : null" in app_js  # loaded with the dashboard
    assert "aiTools.reset(false)" in app_js  # cleared when the user or business changes
    assert "aiTools.reset(Boolean(forgetBusiness))" in app_js


NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_ai_tools(expression: str):
    """Evaluate `expression` under Node with ai_tools.js loaded as `t`; its value, from JSON."""
    script = finders.find("demo_spa/ai_tools.js")
    program = f"const t = require({json.dumps(script)}); console.log(JSON.stringify({expression}));"
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [NODE, "-e", program], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_node
def test_purchase_lines_parse_into_api_lines_and_remember_their_line_numbers():
    text = (
        "Item, Quantity, Amount, Date\n"  # a pasted header line is skipped
        "Rice, 5kg bag, 2, GHS 150.00, 2025-03-01\n"  # the item keeps its own comma
        "\n"
        "Cooking oil\t1.5\t45.5\t09/03/2025\n"  # tabs from a spreadsheet; DD/MM/YYYY
    )
    parsed = run_ai_tools(f"t.parsePurchaseLines({json.dumps(text)})")

    assert parsed == {
        "purchases": [
            {"item": "Rice, 5kg bag", "quantity": 2, "amount": 150, "date": "2025-03-01"},
            {"item": "Cooking oil", "quantity": 1.5, "amount": 45.5, "date": "2025-03-09"},
        ],
        "lineNumbers": [2, 4],
        "errors": [],
    }


@needs_node
def test_purchase_lines_say_which_line_is_wrong_and_why():
    text = "Soap, 0, 12, 2025-03-01\nBread, 2, 1.234, 2025-02-30\nMilk 3\n, 1, 5, 2025-03-01"
    parsed = run_ai_tools(f"t.parsePurchaseLines({json.dumps(text)})")

    assert parsed["purchases"] == []
    assert parsed["errors"] == [
        'Line 1: the quantity must be a number greater than 0, like 2 or 1.5 (got "0").',
        'Line 2: the amount must be in cedis, like 12.50 (got "1.234").',
        'Line 2: the date must be a real day as YYYY-MM-DD or DD/MM/YYYY (got "2025-02-30").',
        "Line 3: write item, quantity, amount, date (1 part found).",
        "Line 4: the item is missing.",
    ]


@needs_node
def test_purchase_lines_need_one_line_and_at_most_500():
    assert run_ai_tools('t.parsePurchaseLines("  \\n ").errors') == ["Add at least one purchase."]
    many = run_ai_tools('t.parsePurchaseLines("Tea, 1, 2, 2025-01-01\\n".repeat(501)).errors')
    assert many == ["At most 500 purchases (you have 501)."]


@needs_node
def test_features_split_on_lines_and_commas_up_to_20():
    assert run_ai_tools('t.splitFeatures("hand-woven, cotton\\n\\n made in Kumasi ,")') == {
        "values": ["hand-woven", "cotton", "made in Kumasi"],
        "error": None,
    }
    too_many = run_ai_tools('t.splitFeatures(Array.from({length: 21}, (_, i) => "f" + i).join())')
    assert too_many["error"] == "At most 20 features (you have 21)."
    too_long = run_ai_tools('t.splitFeatures("ok, " + "x".repeat(201))')
    assert too_long["error"] == "Feature 2 is longer than 200 characters."


@needs_node
def test_server_errors_for_list_items_name_the_item():
    by_index = {"3": {"quantity": ["Must be greater than 0."]}, "0": {"date": ["Wrong format."]}}
    named = run_ai_tools(f't.listErrors({json.dumps(by_index)}, (i) => "Line " + [2, 5, 6, 9][i])')
    assert named == ["Line 2: date: Wrong format.", "Line 9: quantity: Must be greater than 0."]
    own = run_ai_tools('t.listErrors(["Ensure this field has at least 1 elements."], String)')
    assert own == ["Ensure this field has at least 1 elements."]


@needs_node
def test_chart_scale_is_round_and_covers_the_busiest_day():
    scales = run_ai_tools("[0, 2, 2.5, 9, 10, 67.5, 1234].map(t.niceScale)")
    assert scales == [
        {"top": 5, "step": 1},  # an empty month still draws an axis
        {"top": 2, "step": 0.5},
        {"top": 3, "step": 1},
        {"top": 10, "step": 2.5},
        {"top": 10, "step": 2.5},
        {"top": 80, "step": 20},
        {"top": 1500, "step": 500},
    ]


@needs_node
def test_dates_must_be_real_days():
    assert run_ai_tools('["29/02/2024", "29/02/2025", "2025-1-1", "1/3/2025"].map(t.isoDate)') == [
        "2024-02-29",
        "",
        "",
        "2025-03-01",
    ]


@needs_node
@pytest.mark.parametrize("name", ["demo_spa/app.js", "demo_spa/ai_tools.js"])
def test_scripts_are_valid_javascript(name):
    script = finders.find(name)
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [NODE, "--check", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
