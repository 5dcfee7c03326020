"""The AI tools panel in a real browser, against the sandbox's AI provider stand-in: buy credits,
generate a description and an insight and watch the balance and the chart move by exactly the
price; a provider failure charges nothing; with no credits the panel points at buying; spent to
zero, the balance is not shown as active."""

import re
from decimal import Decimal

import requests
from playwright.sync_api import expect

FEATURE_URL = re.compile(r"/ai/api/features/product-description/$")


def register(page, base, username):
    page.goto(f"{base}/demo/")
    page.fill("#reg-username", username)
    page.fill("#reg-email", f"{username}@example.com")
    page.fill("#reg-password", "kente-cloth-42")
    page.fill("#reg-business", f"{username.title()}'s Shop")
    page.locator("#register-form button[type=submit]").click()
    page.wait_for_selector("#pd-form")
    return page.evaluate("localStorage.getItem('aiCreditsToken')")


def shown_balance(page) -> Decimal:
    """The balance the page shows, once it has loaded ("27.50 credits")."""
    expect(page.locator("#balance-amount")).to_have_text(re.compile(r"^\d+\.\d\d credits$"))
    return Decimal(page.locator("#balance-amount").inner_text().split()[0])


def credits_text(amount: Decimal) -> str:
    return f"{amount:.2f} credits"


def test_buy_credits_then_describe_a_product_and_read_a_customer(live_app, page, artifacts):
    base, _ = live_app
    token = register(page, base, "kofi")

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


def test_without_credits_the_panel_says_so_and_links_to_buying(live_app, page):
    base, _ = live_app
    register(page, base, "efua")
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


def test_spent_to_zero_the_balance_is_not_shown_as_active(live_app, page, artifacts):
    base, _ = live_app
    token = register(page, base, "yaw")

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
