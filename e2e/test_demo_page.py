"""The demo page itself, in a real browser: what it loads, how it signs in, stays signed in and
signs out, which token and business its API calls carry, and that text from the server is shown as
text, never as HTML. (Every test here also fails on an uncaught error or a Content-Security-Policy
violation on the page: see the `page` fixture.)"""

import re

import requests
from playwright.sync_api import expect

# Text from the server that would be an element (and a request for /pwned.png) if it were HTML.
HTML = '<img id="pwned" src="/pwned.png"><b>Ama</b> & Sons'


def test_the_page_loads_its_own_script_and_styles_and_nothing_from_elsewhere(
    live_app, page, register
):
    base, _ = live_app
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    register("abena")
    expect(page.locator("#balance-amount")).to_have_text("0.00 credits")
    expect(page.locator("#pd-price")).to_have_text("2.50 credits a use")
    expect(page.locator("#usage-chart-summary")).to_contain_text("No AI credits spent")
    for listing in ["#purchases", "#transactions", "#alerts"]:
        expect(page.locator(listing)).to_have_text("Nothing yet")
    page.goto(f"{base}/demo/payment/callback?trxref=T-1&reference=T-1")
    expect(page.locator("#verify-result")).to_have_attribute("data-status", "not_found")

    assert not failed
    assert all(request.url.startswith(f"{base}/") for request in finished), [
        request.url for request in finished if not request.url.startswith(f"{base}/")
    ]
    statuses = {r.url.removeprefix(base): r.response().status for r in finished}
    for static in ["style.css", "ai_tools.js", "app.js"]:
        assert statuses[f"/static/demo_spa/{static}"] == 200
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith("system-ui")  # the stylesheet applies
    assert not page.context.cookies()  # no session, no CSRF cookie: the token is all


def test_every_api_call_carries_the_token_and_the_business(live_app, page, register, api_requests):
    base, _ = live_app
    token = register("akua")
    expect(page.locator("#usage-chart-summary")).to_contain_text("No AI credits spent")
    me = requests.get(
        f"{base}/accounts/api/me/", headers={"Authorization": f"Token {token}"}, timeout=10
    ).json()
    business = str(me["businesses"][0]["id"])

    signup, *calls = api_requests
    assert signup.url == f"{base}/accounts/api/auth/register/"
    assert "authorization" not in signup.headers
    assert {call.url.removeprefix(base).split("?")[0] for call in calls} >= {
        "/accounts/api/me/",
        "/ai/api/credits/balance/",
        "/ai/api/credits/packages/",
        "/ai/api/credits/purchases/",
        "/ai/api/credits/transactions/",
        "/ai/api/credits/alerts/",
        "/ai/api/features/",
        "/ai/api/credits/usage/daily/",
    }
    for call in calls:
        assert call.headers.get("authorization") == f"Token {token}", call.url
        assert call.headers.get("x-business-id") == business, call.url
        assert "cookie" not in call.headers, call.url


def test_log_in_stay_logged_in_over_a_reload_then_log_out(live_app, page, sign_up, api_requests):
    base, _ = live_app
    account = sign_up("kwame")
    page.goto(f"{base}/demo/")

    # A wrong password: the server's reason is shown, and nobody is logged in.
    page.fill("#login-username", account.username)
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#message")).to_have_class(re.compile("message-error"))
    expect(page.locator("#message")).not_to_be_empty()
    expect(page.locator("#login-form")).to_be_visible()

    page.fill("#login-password", account.password)
    page.click("#login-submit")
    expect(page.locator("#session-user")).to_have_text(account.username)
    expect(page.locator("#business-name")).to_have_text(account.business_name)
    expect(page.locator("#balance-amount")).to_have_text("0.00 credits")
    token = page.evaluate("localStorage.getItem('aiCreditsToken')")
    assert token

    page.reload()  # the token is kept: still logged in
    expect(page.locator("#session-user")).to_have_text(account.username)
    expect(page.locator("#auth-section")).to_be_hidden()

    page.click("#logout-button")
    expect(page.locator("#message")).to_have_text("You have logged out.")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#credits-section")).to_be_hidden()
    expect(page.locator("#session-bar")).to_be_hidden()
    logout = [r for r in api_requests if r.url == f"{base}/accounts/api/auth/logout/"]
    assert [(r.method, r.headers.get("authorization")) for r in logout] == [
        ("POST", f"Token {token}")
    ]
    assert page.evaluate("localStorage.getItem('aiCreditsToken')") is None
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#session-bar")).to_be_hidden()


def test_an_ended_session_asks_to_log_in_again_and_keeps_the_forms_a_logout_clears_them(
    live_app, page, sign_up, open_signed_in
):
    base, _ = live_app
    account = sign_up("esi")
    open_signed_in(account)
    page.fill("#pd-name", "Kente print tote bag")
    page.fill("#ci-customer", "Akosua")

    # The token is revoked elsewhere (another tab logs out): the next call ends the session.
    requests.post(
        f"{base}/accounts/api/auth/logout/",
        headers={"Authorization": f"Token {account.token}"},
        timeout=10,
    ).raise_for_status()
    page.click("#refresh-button")
    expect(page.locator("#message")).to_have_text("Your session has ended. Please log in again.")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#credits-section")).to_be_hidden()

    def log_in():
        page.fill("#login-username", account.username)
        page.fill("#login-password", account.password)
        page.click("#login-submit")
        expect(page.locator("#session-user")).to_have_text(account.username)

    log_in()  # the same user carries on where they were
    expect(page.locator("#pd-name")).to_have_value("Kente print tote bag")
    expect(page.locator("#ci-customer")).to_have_value("Akosua")

    page.click("#logout-button")  # the next user at this browser sees nothing of this one's
    expect(page.locator("#login-form")).to_be_visible()
    log_in()
    expect(page.locator("#pd-name")).to_have_value("")
    expect(page.locator("#ci-customer")).to_have_value("")


def test_a_member_of_two_businesses_picks_which_one_the_page_acts_for(
    live_app, page, sign_up, add_member, start_purchase, open_signed_in, api_requests
):
    base, _ = live_app
    adjoa, kojo = sign_up("adjoa"), sign_up("kojo")
    add_member(adjoa, kojo.business_id, role="staff")
    kojos = start_purchase(kojo)["reference"]  # Kojo's shop has a purchase; Adjoa's none
    open_signed_in(adjoa)

    picker = page.locator("#business-select")
    expect(picker).to_be_visible()
    expect(picker.locator("option")).to_have_text(["Adjoa's Shop (Owner)", "Kojo's Shop (Staff)"])
    expect(picker).to_have_value(str(adjoa.business_id))
    expect(page.locator("#purchases")).to_have_text("Nothing yet")
    page.click("#pd-submit")  # something on screen that belongs to this business
    expect(page.locator("#pd-status")).to_have_text("Please fix the fields marked above.")

    sent = len(api_requests)
    picker.select_option(label="Kojo's Shop (Staff)")
    expect(page.locator("#purchases")).to_contain_text(kojos)
    expect(page.locator("#pd-status")).to_be_hidden()  # the panel starts afresh
    expect(page.locator("#usage-chart-summary")).to_contain_text("No AI credits spent")
    after = api_requests[sent:]
    assert after and {r.headers.get("x-business-id") for r in after} == {str(kojo.business_id)}

    page.reload()  # the choice is remembered
    expect(picker).to_have_value(str(kojo.business_id))
    expect(page.locator("#purchases")).to_contain_text(kojos)

    # A payment not found may be the other business's: the page says to check the picker.
    page.goto(f"{base}/demo/payment/callback?trxref=NOPE&reference=NOPE")
    expect(page.locator("#verify-result")).to_have_text("We could not find this payment.")
    expect(page.locator("#verify-hint")).to_have_text(
        "Check that the business that made the payment is selected above."
    )


def test_text_from_the_server_is_shown_as_text_never_as_html(
    live_app, page, sign_up, open_signed_in
):
    base, _ = live_app
    pwned = page.locator("#pwned")

    # A registration refused: the server's message goes next to its field, as text.
    page.route(
        f"{base}/accounts/api/auth/register/",
        lambda route: route.fulfill(status=400, json={"username": [HTML]}),
    )
    page.goto(f"{base}/demo/")
    page.fill("#reg-username", "mansa")
    page.fill("#reg-email", "mansa@example.com")
    page.fill("#reg-password", "kente-cloth-42")
    page.fill("#reg-business", "Mansa's")
    page.click("#register-submit")
    expect(page.locator("#reg-username-error")).to_have_text(HTML)
    expect(pwned).to_have_count(0)

    # The business's name and the packages' names and descriptions, as the API sends them.
    def me(route):
        body = route.fetch().json()
        body["businesses"][0]["name"] = HTML
        route.fulfill(json=body)

    def packages(route):
        body = route.fetch().json()
        for package in body:
            if package["code"] == "starter":
                package["name"] = HTML
                package["description"] = HTML
        route.fulfill(json=body)

    page.route(f"{base}/accounts/api/me/", me)
    page.route(f"{base}/ai/api/credits/packages/", packages)
    # And an AI result (the stand-in's are plain: this one is not).
    page.route(
        f"{base}/ai/api/features/product-description/",
        lambda route: route.fulfill(
            json={
                "result": {"description": HTML},
                "credits_charged": 2.5,
                "balance": 47.5,
                "tokens_used": 42,
            }
        ),
    )
    open_signed_in(sign_up("mansa"))
    expect(page.locator("#business-name")).to_have_text(HTML)
    expect(page.locator("#package-starter-title")).to_have_text(HTML)
    expect(page.locator("#package-starter .hint")).to_have_text(HTML)
    page.fill("#pd-name", "Gold weights")
    page.click("#pd-submit")
    expect(page.locator("#pd-description")).to_have_text(HTML)
    expect(pwned).to_have_count(0)
    expect(page.locator("main b")).to_have_count(0)

    # The payment callback page shows the gateway's reason for a failure, as text.
    page.route(
        re.compile(r"/ai/api/credits/verify/\?"),
        lambda route: route.fulfill(status=400, json={"status": "failed", "message": HTML}),
    )
    page.goto(f"{base}/demo/payment/callback?trxref=R-1&reference=R-1")
    expect(page.locator("#verify-result")).to_have_text(HTML)
    expect(pwned).to_have_count(0)
