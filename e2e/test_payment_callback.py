"""The payment callback page in a real browser: what it says for each answer of the verify API,
how it polls a payment that is still processing, and the links it cannot or need not check. The
verify answers the sandbox does not give on demand are fulfilled at the network (page.route); the
paid, already-processed, declined and cancelled checkouts through the sandboxes are in
test_buy_credits.py."""

import re

import pytest
from playwright.sync_api import expect

VERIFY = re.compile(r"/ai/api/credits/verify/\?")
PROVIDER_DOWN = "The payment provider could not be reached. Your payment is safe; try again."
CREDITED = {
    "status": "success",
    "message": "Payment verified and credits added successfully",
    "credits_added": 100,
    "new_balance": 130,
}


@pytest.fixture(scope="module")
def account(sign_up):
    """One user for these tests: none of them changes what the server holds for it."""
    return sign_up("abla")


def verify_calls(api_requests) -> list[str]:
    return [r.url.split("?", 1)[1] for r in api_requests if VERIFY.search(r.url)]


def answer_verify(page, *answers):
    """The verify API answers these (status, body, headers), in turn, the last one from then on."""
    queue = list(answers)

    def fulfil(route):
        status, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        route.fulfill(status=status, json=body, headers=headers)

    page.route(VERIFY, fulfil)


def test_logged_out_the_page_asks_to_log_in_then_checks_the_payment(
    live_app, page, account, api_requests
):
    base, _ = live_app
    # Paystack's return carries the reference as trxref (and usually as reference too).
    page.goto(f"{base}/demo/payment/callback?trxref=T-404")

    result = page.locator("#verify-result")
    expect(result).to_have_text("Log in to check this payment.")
    expect(result).to_have_attribute("data-status", "error")
    expect(page.locator("#login-form")).to_be_visible()
    assert not verify_calls(api_requests)

    page.fill("#login-username", account.username)
    page.fill("#login-password", account.password)
    page.click("#login-submit")
    expect(result).to_have_text("We could not find this payment.")  # the server's 404
    expect(result).to_have_attribute("data-status", "not_found")
    expect(page.locator("#verify-hint")).to_have_text(
        "Check the link, or see your purchase history on the credits page."
    )
    assert verify_calls(api_requests) == ["reference=T-404"]
    expect(page.locator("#back-link")).to_have_attribute("href", "/demo/")


@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "logged-in"])
def test_a_cancelled_card_checkout_is_shown_without_asking_the_server(
    live_app, page, account, open_signed_in, api_requests, logged_in
):
    base, _ = live_app
    path = "/demo/payment/callback?gateway=stripe&cancelled=1&reference=AIC-9"
    if logged_in:
        open_signed_in(account, path)
        expect(page.locator("#session-bar")).to_be_visible()
    else:
        page.goto(f"{base}{path}")

    result = page.locator("#verify-result")
    expect(result).to_have_text("Payment cancelled. No money was taken and no credits were added.")
    expect(result).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#verify-hint")).to_have_text(
        "Reference AIC-9. You can buy again from the credits page."
    )
    assert not verify_calls(api_requests)


def test_a_link_without_a_reference_says_so(page, account, open_signed_in, api_requests):
    open_signed_in(account, "/demo/payment/callback?gateway=stripe")
    expect(page.locator("#verify-result")).to_have_text(
        "This link has no payment reference. Start a purchase from the credits page."
    )
    assert not verify_calls(api_requests)


def test_a_payment_still_processing_is_checked_every_3_seconds_10_times_then_on_request(
    page, account, open_signed_in, api_requests
):
    page.clock.install()  # the page's timers run when the test says so
    answer_verify(page, (202, {"status": "pending", "message": "Transaction is ongoing"}, {}))
    open_signed_in(account, "/demo/payment/callback?trxref=P-1&reference=P-1")

    result, hint = page.locator("#verify-result"), page.locator("#verify-hint")
    expect(result).to_have_text("Payment is still processing…")
    expect(result).to_have_attribute("data-status", "pending")
    for check in range(1, 11):
        expect(hint).to_have_text(f"Checking again in 3 seconds ({check} of 10).")
        assert len(verify_calls(api_requests)) == check
        page.clock.run_for(3_000)
    expect(result).to_have_text(
        "Payment is still processing. Your credits will be added when it completes."
    )
    expect(hint).to_have_text(
        "Mobile money approvals can take a few minutes. You can check again now or later."
    )
    assert verify_calls(api_requests) == ["reference=P-1"] * 11
    page.clock.run_for(60_000)
    assert len(verify_calls(api_requests)) == 11  # it has stopped

    answer_verify(page, (200, CREDITED, {}))
    page.get_by_role("button", name="Check again").click()
    expect(result).to_have_text("100.00 credits added, new balance 130.00")
    expect(result).to_have_attribute("data-status", "success")
    expect(page.get_by_role("button", name="Check again")).to_be_hidden()


@pytest.mark.parametrize(
    ("answer", "status", "text", "hint"),
    [
        pytest.param(
            (502, {"status": "error", "message": "Paystack timed out"}, {}),
            "error",
            PROVIDER_DOWN,
            None,
            id="provider-down",
        ),
        pytest.param(
            (429, {"detail": "Request was throttled."}, {"Retry-After": "7"}),
            "error",
            "Too many requests. Try again in 7 seconds.",
            None,
            id="throttled",
        ),
        pytest.param(
            (400, {"status": "failed", "message": "Declined by the bank"}, {}),
            "failed",
            "Declined by the bank",
            "No credits were added. You can try again from the credits page.",
            id="failed",
        ),
        pytest.param(
            (200, {**CREDITED, "message": "Payment already processed", "current_balance": 130}, {}),
            "already",
            "Payment already processed: 100.00 credits were added, balance 130.00",
            None,
            id="already-processed",
        ),
    ],
)
def test_each_answer_of_the_verify_api_has_its_own_words(
    page, account, open_signed_in, api_requests, answer, status, text, hint
):
    answer_verify(page, answer, (200, CREDITED, {}))
    path = "/demo/payment/callback?gateway=stripe&session_id=cs_test_A%2BB"
    open_signed_in(account, path)

    result = page.locator("#verify-result")
    expect(result).to_have_text(text)
    expect(result).to_have_attribute("data-status", status)
    if hint:
        expect(page.locator("#verify-hint")).to_have_text(hint)
    else:
        expect(page.locator("#verify-hint")).to_be_hidden()
    assert verify_calls(api_requests) == ["session_id=cs_test_A%2BB"]  # Stripe's, by session

    retry = page.get_by_role("button", name="Try again")
    if status != "error":
        expect(retry).to_be_hidden()
        return
    retry.click()  # the next answer: credited
    expect(result).to_have_text("100.00 credits added, new balance 130.00")
    expect(retry).to_be_hidden()
    assert len(verify_calls(api_requests)) == 2
