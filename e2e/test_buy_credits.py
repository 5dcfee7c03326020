"""The whole purchase flow in a real browser, as a shop owner would go through it: register on the
demo page, buy the value pack with mobile money, pay on the sandbox checkout, see the credits
arrive; then buy again and decline."""

import re
import time

import psycopg2
import requests


def webhook_outcomes(database_url, reference: str) -> list[tuple[str, bool, str]]:
    """The deliveries the server has finished with: a delivery is stored as `received` before it
    is acted on, and reading it then (under load) would see no outcome yet."""
    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT event, signature_valid, outcome FROM ai_features_webhookevent "
            "WHERE reference = %s AND outcome != 'received' ORDER BY id",
            [reference],
        )
        rows = cursor.fetchall()
    db.close()  # leaving `with` ends the transaction only
    return rows


def wait_until(condition, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def api(base, token, path):
    return requests.get(f"{base}{path}", headers={"Authorization": f"Token {token}"}, timeout=10)


def test_buy_value_pack_pay_then_buy_again_and_decline(live_app, page, artifacts):
    base, database_url = live_app

    # Register on the demo page.
    page.goto(f"{base}/demo/")
    page.fill("#reg-username", "ama")
    page.fill("#reg-email", "ama@example.com")
    page.fill("#reg-password", "kente-cloth-42")
    page.fill("#reg-business", "Ama's Provisions")
    page.locator("#register-form button[type=submit]").click()
    page.wait_for_selector("#buy-value")
    token = page.evaluate("localStorage.getItem('aiCreditsToken')")
    assert token

    # Buy the value pack with mobile money, and pay on the sandbox checkout.
    page.check("#method-mobile_money")
    page.click("#buy-value")
    page.wait_for_url(re.compile(r"/sandbox/paystack/checkout/"))
    checkout = page.content()
    assert "GHS 94.00" in checkout and "Mobile money" in checkout
    page.click("#pay")

    # Back on the SPA's callback page, which verifies.
    page.wait_for_url(re.compile(r"/demo/payment/callback\?trxref=.+&reference=.+"))
    result = page.locator(
        "#verify-result[data-status=success], #verify-result[data-status=already]"
    )
    result.wait_for()
    assert "100.00 credits" in result.inner_text()
    reference = re.search(r"reference=([^&]+)", page.url).group(1)
    page.screenshot(path=str(artifacts / "e2e-paid.png"), full_page=True)

    # The signed webhook arrives too, and the purchase is still credited exactly once.
    outcomes = wait_until(lambda: webhook_outcomes(database_url, reference))
    assert outcomes[0][0] == "charge.success" and outcomes[0][1] is True
    assert outcomes[0][2] in {"credited", "already_processed"}
    assert api(base, token, "/ai/api/credits/balance/").json()["balance"] == 100
    ledger = api(base, token, "/ai/api/credits/ledger/").json()["results"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("purchase", 100)]

    # Buy again and decline: a clear failure, and no credits.
    page.goto(f"{base}/demo/")
    page.wait_for_selector("#buy-value")
    page.click("#buy-value")
    page.wait_for_url(re.compile(r"/sandbox/paystack/checkout/"))
    page.click("#decline")
    page.wait_for_url(re.compile(r"/demo/payment/callback"))
    failed = page.locator("#verify-result[data-status=failed]")
    failed.wait_for()
    assert "fail" in failed.inner_text().lower() or "declin" in failed.inner_text().lower()
    page.screenshot(path=str(artifacts / "e2e-declined.png"), full_page=True)
    assert api(base, token, "/ai/api/credits/balance/").json()["balance"] == 100
    statuses = [
        p["payment_status"]
        for p in api(base, token, "/ai/api/credits/purchases/").json()["results"]
    ]
    assert statuses == ["failed", "completed"]


def test_buy_value_pack_in_usd_by_card_through_stripe_then_cancel_one(live_app, page, artifacts):
    base, database_url = live_app
    page.goto(f"{base}/demo/")
    page.fill("#reg-username", "esi")
    page.fill("#reg-email", "esi@example.com")
    page.fill("#reg-password", "kente-cloth-42")
    page.fill("#reg-business", "Esi's Fabrics")
    page.locator("#register-form button[type=submit]").click()
    token = wait_until(lambda: page.evaluate("localStorage.getItem('aiCreditsToken')"))
    value = next(
        p for p in api(base, token, "/ai/api/credits/packages/").json() if p["code"] == "value"
    )
    before = api(base, token, "/ai/api/credits/balance/").json()["balance"]

    # setup_demo gave the value pack a USD price and synced it to the Stripe stand-in.
    card = page.locator("#package-value")
    card.locator("text=or USD 6.50 by card").wait_for()
    page.locator("#buy-section").screenshot(path=str(artifacts / "e2e-stripe-buy.png"))
    page.click("#buy-value-stripe")
    page.locator("#invoice-next a").click()  # rather than wait for the automatic redirect
    page.wait_for_url(re.compile(r"/sandbox/stripe/checkout/cs_test_"))
    checkout = page.content()
    assert "USD 6.50" in checkout and "Value × 1" in checkout  # the synced product and price
    page.screenshot(path=str(artifacts / "e2e-stripe-checkout.png"), full_page=True)
    page.click("#pay")

    # Back on the demo page, which verifies by the session id.
    page.wait_for_url(re.compile(r"/demo/payment/callback\?gateway=stripe&session_id=cs_test_"))
    result = page.locator(
        "#verify-result[data-status=success], #verify-result[data-status=already]"
    )
    result.wait_for()
    assert "100.00 credits" in result.inner_text()
    page.click("#back-link")
    expected = before + value["total_credits"]
    page.locator(f"#balance-amount:text-is('{expected:.2f} credits')").wait_for()

    # The signed checkout.session.completed webhook arrives too; credited exactly once.
    (bought,) = api(base, token, "/ai/api/credits/purchases/").json()["results"]
    assert (bought["currency"], bought["total_amount"], bought["total_tax"]) == ("USD", 6.5, 0)
    assert bought["payment_status"] == "completed"
    outcomes = wait_until(lambda: webhook_outcomes(database_url, bought["payment_reference"]))
    assert outcomes[0][:2] == ("checkout.session.completed", True)
    assert outcomes[0][2] in {"credited", "already_processed"}
    ledger = api(base, token, "/ai/api/credits/ledger/").json()["results"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("purchase", value["total_credits"])]

    # Start another and cancel on Stripe's page: a clear message, and no credits.
    page.click("#buy-starter-stripe")
    page.locator("#invoice-next a").click()
    page.wait_for_url(re.compile(r"/sandbox/stripe/checkout/"))
    page.click("#cancel")
    page.wait_for_url(re.compile(r"/demo/payment/callback\?gateway=stripe&cancelled=1"))
    cancelled = page.locator("#verify-result[data-status=cancelled]")
    cancelled.wait_for()
    assert "Payment cancelled" in cancelled.inner_text()
    assert api(base, token, "/ai/api/credits/balance/").json()["balance"] == expected
