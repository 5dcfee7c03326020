"""The AI tools panel in a real browser, against the sandbox's AI provider stand-in: buy credits,
generate a description and an insight and watch the balance and the chart move by exactly the
price; a provider failure charges nothing; with no credits the panel points at buying; spent to
zero, the balance is not shown as active and the alert is acknowledged. Wrong fields are named
next to the field (and read with it) before anything is sent, and so are the server's; a retry
after a lost connection keeps its Idempotency-Key; the chart is an image with a table behind it."""

import re
from decimal import Decimal

import requests
from playwright.sync_api import expect

FEATURE_URL = re.compile(r"/ai/api/features/product-description/$")


def shown_balance(page) -> Decimal:
    """The balance the page shows, once it has loaded ("27.50 credits")."""
    expect(page.locator("#balance-amount")).to_have_text(re.compile(r"^\d+\.\d\d credits$"))
    return Decimal(page.locator("#balance-amount").inner_text().split()[0])


def credits_text(amount: Decimal) -> str:
    return f"{amount:.2f} credits"


def test_buy_credits_then_describe_a_product_and_read_a_customer(
    live_app, page, register, artifacts
):
    base, _ = live_app
    token = register("kofi")

    # Buy the starter pack on the sandbox checkout.
    page.click("#buy-starter")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/sandbox/paystack/checkout/"))
    page.click("#pay")
    page.wait_for_url(re.compile(r"/demo/payment/callback"))
    page.locator(
        "#verify-result[data-status=success], #verify-result[data-status=already]"
    ).wait_for()
    page.goto(f"{base}/demo/")
    before = shown_balance(page)
    assert before == Decimal("30.00")
    expect(page.locator("#pd-price")).to_have_text("2.50 credits a use")
    expect(page.locator("#usage-chart-summary")).to_have_text(re.compile("No AI credits spent"))
    expect(page.locator("#usage-chart .day-today .bar")).to_have_count(0)

    # Generate a description. The call is held at the network so the in-flight state can be
    # seen: the button is disabled, and pressing Enter again sends nothing more.
    posts = []
    page.on("request", lambda r: posts.append(r) if FEATURE_URL.search(r.url) else None)
    held = []
    page.route(FEATURE_URL, lambda route: held.append(route))
    page.fill("#pd-name", "Kente print tote bag")
    page.fill("#pd-category", "Bags")
    page.fill("#pd-features", "hand-woven kente trim, fits a 15-inch laptop")
    page.select_option("#pd-tone", "friendly")
    page.click("#pd-submit")
    expect(page.locator("#pd-submit")).to_be_disabled()
    while not held:
        page.wait_for_timeout(50)
    page.locator("#pd-name").press("Enter")
    held[0].continue_()
    page.unroute(FEATURE_URL)

    description = page.locator("#pd-description")
    expect(description).to_contain_text("Say hello to the Kente print tote bag")
    expect(description).to_contain_text("hand-woven kente trim")
    expect(page.locator("#pd-charged")).to_have_text("Charged 2.50 credits")
    after = before - Decimal("2.50")
    expect(page.locator("#balance-amount")).to_have_text(credits_text(after))
    assert shown_balance(page) == before - Decimal("2.50")
    expect(page.locator("#pd-submit")).to_be_enabled()
    assert len(posts) == 1
    assert posts[0].headers.get("idempotency-key")
    today = page.locator("#usage-chart .day-today .bar")
    expect(today).to_have_attribute("data-credits", "2.50")
    assert float(today.get_attribute("height")) > 0
    expect(page.locator("#usage-chart-summary")).to_contain_text("Today: 2.50 credits.")
    expect(page.locator("#transactions")).to_contain_text("Product description")

    # A customer insight from pasted purchase lines costs its own price.
    page.fill("#ci-customer", "Akosua")
    page.fill(
        "#ci-purchases", "Rice, 5kg bag, 2, 150.00, 2025-03-01\nCooking oil, 1, 45.50, 09/03/2025"
    )
    page.click("#ci-submit")
    expect(page.locator("#ci-summary")).to_contain_text(
        "Akosua made 2 purchases totalling GHS 195.50 between 2025-03-01 and 2025-03-09"
    )
    expect(page.locator("#ci-segment")).to_have_text("Regular")
    expect(page.locator("#ci-recommendations li")).to_have_count(2)
    after -= Decimal("2.00")
    expect(page.locator("#balance-amount")).to_have_text(credits_text(after))
    expect(today).to_have_attribute("data-credits", "4.50")

    # The provider fails: its message is shown and nothing is charged.
    page.fill("#pd-name", "Shea butter [sandbox:500]")
    page.click("#pd-submit")
    expect(page.locator("#pd-status")).to_contain_text("No credits were taken")
    expect(page.locator("#pd-result")).to_be_hidden()
    expect(page.locator("#usage-chart-summary")).to_contain_text("on 3 requests")
    expect(page.locator("#balance-amount")).to_have_text(credits_text(after))

    page.screenshot(path=str(artifacts / "e2e-ai-tools.png"), full_page=True)
    balance = requests.get(
        f"{base}/ai/api/credits/balance/", headers={"Authorization": f"Token {token}"}, timeout=10
    ).json()["balance"]
    assert Decimal(str(balance)) == Decimal("25.50")


def test_without_credits_the_panel_says_so_and_links_to_buying(page, register):
    register("efua")
    assert shown_balance(page) == Decimal("0.00")

    page.fill("#pd-name", "Shito, extra hot")
    page.click("#pd-submit")

    status = page.locator("#pd-status")
    expect(status).to_contain_text(
        "Not enough credits: this description costs 2.50 credits and your balance is 0.00."
    )
    expect(page.locator("#pd-result")).to_be_hidden()
    buy = status.get_by_role("link", name="Buy credits")
    buy.click()
    expect(page.locator("#buy-title")).to_be_focused()
    expect(page.locator("#buy-starter")).to_be_in_viewport()


def test_spent_to_zero_the_balance_is_not_shown_as_active(live_app, page, register, artifacts):
    base, _ = live_app
    token = register("yaw")

    # Buy a custom 10.00 (10 credits, GHS 11.75 with the taxes) and pay for it.
    page.fill("#custom-amount", "10")
    page.click("#buy-custom")
    expect(page.locator("#invoice-lines tr.total td")).to_have_text("GHS 11.75")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/sandbox/paystack/checkout/"))
    page.click("#pay")
    page.locator(
        "#verify-result[data-status=success], #verify-result[data-status=already]"
    ).wait_for()
    page.click("#back-link")
    expect(page.locator("#balance-amount")).to_have_text("10.00 credits")
    expect(page.locator("#balance-active")).to_have_text("Active")

    # Four descriptions at 2.50 spend it all: the balance stays active (it has not expired) but
    # there is nothing to spend, so the badge says Empty, at once and after a reload.
    for left in ["7.50", "5.00", "2.50", "0.00"]:
        page.fill("#pd-name", f"Shea butter, {left}")
        page.click("#pd-submit")
        expect(page.locator("#balance-amount")).to_have_text(f"{left} credits")
    expect(page.locator("#balance-active")).to_have_text("Empty")
    balance = requests.get(
        f"{base}/ai/api/credits/balance/", headers={"Authorization": f"Token {token}"}, timeout=10
    ).json()
    assert (balance["balance"], balance["is_active"]) == (0, True)
    page.reload()
    expect(page.locator("#balance-amount")).to_have_text("0.00 credits")
    expect(page.locator("#balance-active")).to_have_text("Empty")
    page.locator("#balance-card").screenshot(path=str(artifacts / "e2e-balance-empty.png"))

    # Spending it all raised an alert; it is acknowledged from the page, for good.
    depleted = page.locator("#alerts tbody tr", has_text="Depleted")
    depleted.get_by_role("button", name="Acknowledge").click()
    expect(depleted).to_contain_text("Acknowledged")
    page.reload()
    expect(depleted).to_contain_text("Acknowledged")


def test_the_panel_checks_its_fields_before_sending_and_places_the_servers_errors(
    page, sign_up, open_signed_in, api_requests
):
    open_signed_in(sign_up("adwoa"))
    expect(page.locator("#pd-price")).to_have_text("2.50 credits a use")
    form_status = page.locator("#pd-card").get_by_role("status")

    # Nothing is sent while a field is wrong; the error is next to the field, and read with it.
    name = page.get_by_label("Product name")
    page.click("#pd-submit")
    expect(form_status).to_have_text("Please fix the fields marked above.")
    expect(page.locator("#pd-name-error")).to_have_text("Enter the product's name.")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Enter the product's name.")
    expect(name).to_be_focused()
    name.fill("Shea butter")  # editing the field clears its error
    expect(page.locator("#pd-name-error")).to_be_hidden()
    expect(name).not_to_have_attribute("aria-invalid", "true")

    words = page.get_by_label("Max words")
    words.fill("10")
    page.get_by_label("Features").fill(",".join(f"feature {n}" for n in range(21)))
    page.click("#pd-submit")
    expect(words).to_have_accessible_description("20 to 300 Enter a whole number from 20 to 300.")
    expect(words).to_be_focused()  # the first wrong field, in the form's order
    expect(page.get_by_label("Features")).to_have_accessible_description(
        "One per line, or separated by commas; up to 20. At most 20 features (you have 21)."
    )

    purchases = page.get_by_label("Purchases")
    purchases.fill("Milk 3\nBread, 2, 1.234, 2025-03-01")
    page.click("#ci-submit")
    expect(page.locator("#ci-purchases-error li")).to_have_text(
        [
            "Line 1: write item, quantity, amount, date (1 part found).",
            'Line 2: the amount must be in cedis, like 12.50 (got "1.234").',
        ]
    )
    expect(page.locator("#ci-card").get_by_role("status")).to_have_text(
        "Please fix the fields marked above."
    )
    assert not [r for r in api_requests if r.method == "POST"]

    # The server's errors go next to their fields too; a purchase's names the line it was typed
    # on (blank lines count).
    page.route(
        re.compile(r"/ai/api/features/customer-insight/$"),
        lambda route: route.fulfill(
            status=400,
            json={
                "customer_name": ["Not a name."],
                "purchases": {"1": {"quantity": ["Ensure this value is at most 10000."]}},
                "notes": ["Too rude."],
            },
        ),
    )
    page.route(
        FEATURE_URL,
        lambda route: route.fulfill(
            status=400,
            json={"category": ["Not a category."], "tone": ['"loud" is not a valid choice.']},
        ),
    )
    purchases.fill("Rice, 1, 150.00, 2025-03-01\n\nOil, 99999, 45.50, 2025-03-09")
    page.click("#ci-submit")
    expect(purchases).to_have_accessible_description(
        "One purchase a line: item, quantity, amount, date. Amount in cedis; date as YYYY-MM-DD"
        " or DD/MM/YYYY; up to 500 lines. Line 3: quantity: Ensure this value is at most 10000."
    )
    expect(page.get_by_label("Customer name")).to_have_accessible_description("Not a name.")
    expect(page.get_by_label("Notes")).to_have_accessible_description("Too rude.")
    expect(page.get_by_label("Customer name")).to_be_focused()
    words.fill("120")
    page.get_by_label("Features").fill("hand-woven")
    page.click("#pd-submit")
    expect(page.get_by_label("Category")).to_have_accessible_description("Not a category.")
    expect(page.get_by_label("Tone")).to_have_accessible_description(
        '"loud" is not a valid choice.'
    )


def test_a_request_retried_after_a_lost_connection_keeps_its_key_and_the_chart_reads_as_a_table(
    page, sign_up, buy_starter_pack, open_signed_in, api_requests
):
    account = sign_up("kojo")
    buy_starter_pack(account)
    # The first attempt never reaches the server (the connection drops); the rest do.
    dropped = [True]

    def feature(route):
        if dropped and dropped.pop():
            route.abort("connectionfailed")
        else:
            route.continue_()

    page.route(FEATURE_URL, feature)
    open_signed_in(account)
    expect(page.locator("#balance-amount")).to_have_text("30.00 credits")

    page.fill("#pd-name", "Kente print tote bag")
    page.click("#pd-submit")
    expect(page.locator("#pd-status")).to_have_text(
        "Could not reach the server. Check your connection and press the button again: "
        "the same request is never charged twice."
    )
    expect(page.locator("#pd-submit")).to_be_enabled()
    page.click("#pd-submit")
    expect(page.locator("#pd-charged")).to_have_text("Charged 2.50 credits")
    expect(page.locator("#balance-amount")).to_have_text("27.50 credits")
    page.fill("#pd-name", "Kente print purse")
    page.click("#pd-submit")
    expect(page.locator("#pd-description")).to_contain_text("Kente print purse")
    expect(page.locator("#balance-amount")).to_have_text("25.00 credits")

    calls = [r for r in api_requests if FEATURE_URL.search(r.url)]
    keys = [r.headers["idempotency-key"] for r in calls]
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2]
    for call in calls:  # through the page's one API client: its token and business
        assert call.headers["authorization"] == f"Token {account.token}"
        assert call.headers["x-business-id"] == str(account.business_id)

    # The chart is an image named by its caption and its summary, and has a table behind it.
    chart = page.get_by_role(
        "img",
        name="Credits spent per day, last 30 days "
        "5.00 credits spent in the last 30 days, on 2 requests. Today: 5.00 credits.",
    )
    expect(chart).to_be_visible()
    table = page.locator("#usage-chart-table")
    expect(table).to_be_hidden()
    page.get_by_text("Show as a table").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody td").nth(1)).to_have_text("5.00")
    expect(table.locator("tbody td").nth(2)).to_have_text("2")
