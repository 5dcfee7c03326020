"""The demo credits page as the server serves it, and ai_tools.js's pure functions under Node.
What the page does in a browser (what it sends, shows and loads) is tested in e2e/."""

import json
import shutil
import subprocess

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.urls("demo_spa.tests.urls")


@pytest.mark.parametrize(
    "url",
    [
        "/demo/",
        "/demo/payment/callback?trxref=X&reference=X",
        "/demo/payment/callback?gateway=stripe&session_id=cs_test_X",
        "/demo/payment/callback?gateway=stripe&cancelled=1&reference=X",
    ],
)
def test_page_is_served_uncached_at_home_and_at_the_callback(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


def test_page_sets_no_cookie_and_allows_only_its_own_origin(client):
    response = client.get("/demo/")

    assert not response.cookies  # no CSRF cookie, no session: the page uses a token
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_page_answers_only_safe_methods(client):
    assert client.head("/demo/").status_code == 200
    assert client.post("/demo/").status_code == 405


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
