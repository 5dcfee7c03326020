"""The whole purchase flow in a real browser, as a shop owner would go through it: register on the
demo page, buy the value pack with mobile money, read the invoice and cancel, buy it again, pay on
the sandbox checkout, see the credits arrive; then buy again and decline. Each state the page goes
through is photographed into test-artifacts/. Then what a Buy sends (the choice, the return URLs,
one Idempotency-Key per purchase, kept by a retry) and a checkout address that is not a web
address, which is never followed."""

import re
import time

import psycopg2
import requests
from playwright.sync_api import expect


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


def callback_credited(page, credits: str) -> None:
    """The callback page says the payment was credited (by this visit, or an earlier one)."""
    result = page.locator(
        "#verify-result[data-status=success], #verify-result[data-status=already]"
    )
    result.wait_for()
    assert credits in result.inner_text()


def test_buy_value_pack_pay_then_buy_again_and_decline(live_app, page, register, artifacts):
    base, database_url = live_app

    # Register on the demo page.
    token = register("ama", business="Ama's Provisions")
    page.wait_for_selector("#buy-value")
    assert token

    # A new business has nothing to spend: 0.00, and the badge does not say Active.
    expect(page.locator("#balance-amount")).to_have_text("0.00 credits")
    expect(page.locator("#balance-active")).to_have_text("Inactive")
    page.locator("#balance-card").screenshot(path=str(artifacts / "e2e-balance-new.png"))

    # Buy the value pack with mobile money: the invoice waits for the buyer, however long.
    page.check("#method-mobile_money")
    page.click("#buy-value")
    invoice = page.locator("#invoice")
    expect(invoice).to_be_visible()
    expect(page.locator("#invoice-lines tr.total td")).to_have_text("GHS 94.00")
    expect(page.locator("#invoice-lines")).to_contain_text("VAT (12.5%)")
    expect(page.get_by_role("button", name="Continue to payment")).to_be_focused()
    first_reference = page.locator("#invoice-lines tr").nth(1).locator("td").inner_text()
    page.wait_for_timeout(3_000)  # longer than the 2.5 s after which it used to leave by itself
    assert page.url == f"{base}/demo/"
    page.locator("#buy-section").screenshot(path=str(artifacts / "e2e-invoice.png"))

    # Cancel: back to the packages, nothing paid, and Buy works again.
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(invoice).to_be_hidden()
    expect(page.locator("#buy-status")).to_contain_text("Cancelled: nothing was paid")
    expect(page.locator("#buy-title")).to_be_focused()
    expect(page.locator("#buy-value")).to_be_enabled()
    expect(page.locator("#purchases")).to_contain_text(first_reference)
    expect(page.locator("#purchases")).to_contain_text("Pending")
    expect(page.locator("#balance-amount")).to_have_text("0.00 credits")
    assert page.url == f"{base}/demo/"
    page.screenshot(path=str(artifacts / "e2e-invoice-cancelled.png"), full_page=True)

    # Buy the same again: the same pending purchase comes back (no second one), and this time
    # Continue to payment goes to the sandbox checkout, where it is paid.
    page.click("#buy-value")
    expect(invoice).to_be_visible()
    expect(page.locator("#invoice-lines tr").nth(1).locator("td")).to_have_text(first_reference)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/sandbox/paystack/checkout/"))
    checkout = page.content()
    assert "GHS 94.00" in checkout and "Mobile money" in checkout
    page.click("#pay")

    # Back on the SPA's callback page, which verifies.
    page.wait_for_url(re.compile(r"/demo/payment/callback\?trxref=.+&reference=.+"))
    callback_credited(page, "100.00 credits")
    reference = re.search(r"reference=([^&]+)", page.url).group(1)
    page.screenshot(path=str(artifacts / "e2e-paid.png"), full_page=True)

    # The signed webhook arrives too, and the purchase is still credited exactly once.
    outcomes = wait_until(lambda: webhook_outcomes(database_url, reference))
    assert outcomes[0][0] == "charge.success" and outcomes[0][1] is True
    assert outcomes[0][2] in {"credited", "already_processed"}
    assert api(base, token, "/ai/api/credits/balance/").json()["balance"] == 100
    ledger = api(base, token, "/ai/api/credits/ledger/").json()["results"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [("purchase", 100)]

    # Back on the credits page the balance is active.
    page.click("#back-link")
    expect(page.locator("#balance-amount")).to_have_text("100.00 credits")
    expect(page.locator("#balance-active")).to_have_text("Active")
    page.locator("#balance-card").screenshot(path=str(artifacts / "e2e-balance-active.png"))

    # Buy again and decline: a clear failure, and no credits.
    page.click("#buy-value")
    page.get_by_role("button", name="Continue to payment").click()
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


def test_buy_value_pack_in_usd_by_card_through_stripe_then_cancel_one(
    live_app, page, register, artifacts
):
    base, database_url = live_app
    token = register("esi", business="Esi's Fabrics")
    value = next(
        p for p in api(base, token, "/ai/api/credits/packages/").json() if p["code"] == "value"
    )
    before = api(base, token, "/ai/api/credits/balance/").json()["balance"]

    # setup_demo gave the value pack a USD price and synced it to the Stripe stand-in.
    card = page.locator("#package-value")
    card.locator("text=or USD 6.50 by card").wait_for()
    page.locator("#buy-section").screenshot(path=str(artifacts / "e2e-stripe-buy.png"))
    page.click("#buy-value-stripe")
    expect(page.locator("#invoice-lines tr.total td")).to_have_text("USD 6.50")
    page.locator("#buy-section").screenshot(path=str(artifacts / "e2e-stripe-invoice.png"))
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/sandbox/stripe/checkout/cs_test_"))
    checkout = page.content()
    assert "USD 6.50" in checkout and "Value × 1" in checkout  # the synced product and price
    page.screenshot(path=str(artifacts / "e2e-stripe-checkout.png"), full_page=True)
    page.click("#pay")

    # Back on the demo page, which verifies by the session id.
    page.wait_for_url(re.compile(r"/demo/payment/callback\?gateway=stripe&session_id=cs_test_"))
    callback_credited(page, "100.00 credits")
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
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/sandbox/stripe/checkout/"))
    page.click("#cancel")
    page.wait_for_url(re.compile(r"/demo/payment/callback\?gateway=stripe&cancelled=1"))
    cancelled = page.locator("#verify-result[data-status=cancelled]")
    cancelled.wait_for()
    assert "Payment cancelled" in cancelled.inner_text()
    assert api(base, token, "/ai/api/credits/balance/").json()["balance"] == expected


PURCHASE = re.compile(r"/ai/api/credits/purchase/$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_a_purchase_says_what_is_bought_and_a_retry_keeps_its_idempotency_key(
    live_app, page, sign_up, open_signed_in, api_requests
):
    base, _ = live_app
    callback = f"{base}/demo/payment/callback"
    # The first attempt meets a provider outage; the rest reach the server.
    outage = [True]

    def purchase(route):
        if outage and outage.pop():
            route.fulfill(status=503, json={"detail": "Paystack is unavailable."})
        else:
            route.continue_()

    page.route(PURCHASE, purchase)
    open_signed_in(sign_up("afia"))
    expect(page.locator("#method-mobile_money")).to_be_checked()  # the default

    def buy(button):
        page.click(button)
        expect(page.locator("#invoice")).to_be_visible()
        reference = page.locator("#invoice-lines tr").nth(1).locator("td").inner_text()
        page.get_by_role("button", name="Cancel", exact=True).click()
        expect(page.locator("#invoice")).to_be_hidden()
        return reference

    page.click("#buy-starter")
    message = page.locator("#message")
    expect(message).to_contain_text(
        "Payment provider unavailable. Nothing was charged; please try again in a moment."
    )
    expect(message.locator("li")).to_have_text("Paystack is unavailable.")
    expect(page.locator("#buy-starter")).to_be_enabled()
    first = buy("#buy-starter")  # the retry
    again = buy("#buy-starter")  # the same choice after Cancel: the same purchase comes back
    page.check("#method-card")
    by_card = buy("#buy-starter")
    card_button = page.locator("#buy-starter-stripe")
    expect(card_button).to_have_text("Pay in USD by card")
    buy("#buy-starter-stripe")

    sent = [r for r in api_requests if PURCHASE.search(r.url)]
    keys = [r.headers["idempotency-key"] for r in sent]
    assert all(UUID4.match(key) for key in keys), keys
    assert keys[0] == keys[1] == keys[2]  # the outage's retry, and Buy again after Cancel
    assert len({keys[0], keys[3], keys[4]}) == 3  # another choice is another purchase
    assert first == again != by_card
    mobile_money = {
        "package": "starter",
        "payment_method": "mobile_money",
        "callback_url": callback,
    }
    assert [r.post_data_json for r in sent] == [
        mobile_money,
        mobile_money,
        mobile_money,
        {**mobile_money, "payment_method": "card"},
        {
            "package": "starter",
            "gateway": "stripe",
            # Back to this origin, where the token is; Stripe fills in the session id.
            "success_url": f"{callback}?gateway=stripe&session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{callback}?gateway=stripe&cancelled=1",
        },
    ]
    assert all(r.headers["content-type"] == "application/json" for r in sent)


def test_a_checkout_address_that_is_not_a_web_address_is_never_followed(
    live_app, page, sign_up, open_signed_in
):
    base, _ = live_app

    def hostile(route):
        body = route.fetch().json()
        body["authorization_url"] = "javascript:document.title='pwned'"
        route.fulfill(status=201, json=body)

    page.route(PURCHASE, hostile)
    open_signed_in(sign_up("kobby"))
    page.click("#buy-starter")
    expect(page.locator("#message")).to_have_text(
        "The payment provider sent back an unusable checkout address. Please try again."
    )
    expect(page.locator("#invoice")).to_be_hidden()
    expect(page.locator("#buy-starter")).to_be_enabled()
    assert page.url == f"{base}/demo/"
    assert page.title() == "AI credits"
