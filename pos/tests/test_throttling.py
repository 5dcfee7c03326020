"""Rate limits: 429 with Retry-After and the error shape; the webhook is never throttled."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from testing.factories import PurchaseFactory
from testing.paystack_api import charge_success_body, deliver_webhook
from testing.races import results_in_threads

pytestmark = pytest.mark.django_db


def hammer(send, times):
    return [send().status_code for _ in range(times)]


def test_purchase_allows_10_a_minute_per_user_then_429(api, paystack):
    paystack.initialize_ok()

    codes = hammer(
        lambda: api.post("/ai/api/credits/purchase/", {"package": "value"}, format="json"), 11
    )

    assert codes == [201] * 10 + [429]
    response = api.post("/ai/api/credits/purchase/", {"package": "value"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled" and response.json()["detail"]


def test_verify_allows_60_a_minute_per_user(api, business, paystack):
    purchase = PurchaseFactory(business=business)
    paystack.verify(purchase.payment_reference, status="ongoing")

    def send():
        return api.get("/ai/api/credits/verify/", {"reference": purchase.payment_reference})

    codes = hammer(send, 61)

    assert codes == [202] * 60 + [429]


def test_another_user_has_their_own_allowance(api, paystack, client_for):
    from testing.factories import BusinessFactory, UserFactory

    paystack.initialize_ok()
    hammer(lambda: api.post("/ai/api/credits/purchase/", {"package": "value"}, format="json"), 10)
    someone = UserFactory()
    BusinessFactory(owner=someone)

    response = client_for(someone).post(
        "/ai/api/credits/purchase/", {"package": "value"}, format="json"
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/accounts/api/auth/token/", {"username": "nobody", "password": "wrong"}),
        ("/accounts/api/auth/register/", {"username": ""}),
    ],
)
def test_login_and_register_allow_10_a_minute_per_ip(path, body):
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    codes = hammer(lambda: client.post(path, body, format="json"), 11)

    assert codes == [400] * 10 + [429]
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.8").post(path, body, format="json")
    assert elsewhere.status_code == 400


def test_the_webhook_is_never_throttled(client, business, paystack_settings):
    purchase = PurchaseFactory(business=business)
    raw = charge_success_body(purchase.payment_reference, 9400)

    codes = hammer(lambda: deliver_webhook(client, raw), 70)

    assert set(codes) == {200}


def test_a_forged_x_forwarded_for_does_not_dodge_the_login_limit():
    # Regression: NUM_PROXIES=0 became None, which made DRF key clients by the whole
    # X-Forwarded-For header, so rotating it gave unlimited password guesses.
    client = APIClient(REMOTE_ADDR="203.0.113.9")

    codes = [
        client.post(
            "/accounts/api/auth/token/",
            {"username": "nobody", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(11)
    ]

    assert codes == [400] * 10 + [429]


def test_login_and_register_are_counted_apart():
    client = APIClient(REMOTE_ADDR="203.0.113.10")
    hammer(lambda: client.post("/accounts/api/auth/token/", {}, format="json"), 10)

    response = client.post("/accounts/api/auth/register/", {}, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("num_proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "203.0.113.50"),  # no proxy: the header is anyone's to write
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the proxy appends; the rest is forged
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (1, "not-an-address", "203.0.113.50"),  # a broken header: the socket's address
        (1, "", "203.0.113.50"),
    ],
)
def test_client_ip_reads_the_address_as_the_throttles_do(
    settings, num_proxies, forwarded, expected
):
    from django.test import RequestFactory

    from pos.throttling import client_ip

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.50", **headers)

    assert client_ip(request) == expected


def test_retry_after_is_the_rest_of_the_window(monkeypatch):
    from accounts.throttling import LoginThrottle

    now = [1_000_000.0]
    monkeypatch.setattr(LoginThrottle, "timer", lambda self: now[0])
    client = APIClient(REMOTE_ADDR="203.0.113.11")
    hammer(lambda: client.post("/accounts/api/auth/token/", {}, format="json"), 10)
    now[0] += 45

    refused = client.post("/accounts/api/auth/token/", {}, format="json")
    now[0] += 15
    allowed_again = client.post("/accounts/api/auth/token/", {}, format="json")

    assert (refused.status_code, refused["Retry-After"]) == (429, "15")
    assert allowed_again.status_code == 400


def test_a_throttled_request_counts_in_the_rate_limit_table_not_the_cache(api, business):
    # Regression: DRF's throttles kept their history in the database cache, read and written
    # back on every request (five statements, and racing requests lost counts).
    from django.core.cache import cache

    from accounts.models import RateLimitWindow

    api.get("/ai/api/credits/verify/", {"reference": "nothing-yet"})
    api.get("/ai/api/credits/verify/", {"reference": "nothing-yet"})

    assert [w.hits for w in RateLimitWindow.objects.filter(key__contains="verify")] == [2]
    assert not cache.has_key(f"throttle_verify_{business.owner.pk}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_cache")
        assert cursor.fetchone() == (0,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_requests_cannot_all_take_the_last_slots():
    # Regression: the cached history was read and written back, so requests at once each saw
    # room left and all got through.
    def login(index):
        response = APIClient(REMOTE_ADDR="203.0.113.12").post(
            "/accounts/api/auth/token/", {"username": "nobody", "password": "x"}, format="json"
        )
        return response.status_code

    codes = results_in_threads(16, login)

    assert sorted(codes) == [400] * 10 + [429] * 6
