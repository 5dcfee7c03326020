from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import Business
from conftest import stored_balance

pytestmark = pytest.mark.django_db


def run():
    out = StringIO()
    call_command("setup_demo", stdout=out)
    return out.getvalue()


def test_creates_demo_shop_with_50_credits_and_prints_a_working_curl_line(client):
    out = run()

    shop = Business.objects.get(name="Demo Shop")
    token = Token.objects.get(user=shop.owner)
    assert stored_balance(shop) == Decimal("50.00")
    assert f"API token: {token.key}" in out
    assert (
        f'curl -H "Authorization: Token {token.key}" http://127.0.0.1:8000/ai/api/credits/balance/'
        in out
    )
    response = client.get("/ai/api/credits/balance/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.json()["balance"] == 50


def test_running_again_reuses_the_shop_and_grants_nothing_more():
    first = run()
    second = run()

    assert Business.objects.filter(name="Demo Shop").count() == 1
    assert stored_balance(Business.objects.get(name="Demo Shop")) == Decimal("50.00")
    token_line = [line for line in first.splitlines() if line.startswith("API token")]
    assert token_line and token_line[0] in second


def test_with_the_sandbox_on_it_points_at_the_demo_page(settings):
    settings.PAYSTACK_SANDBOX = True

    out = run()

    assert "http://127.0.0.1:8000/demo/" in out and "'demo'" in out


def test_with_the_sandbox_off_it_does_not_mention_the_demo_page():
    assert "/demo/" not in run()
