"""The sandbox's Stripe stand-in behind the app's own StripeService, for the catalogue's tests:
the real SDK (16.1.0) sends each request to Django's test client, which serves /sandbox/stripe/."""

import json
from decimal import Decimal

from django.test import Client

from ai_features.models import CreditPackage
from ai_features.payments.gateways.stripe import StripeService
from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct
from sandbox.stripe.tests.helpers import API_BASE, STRIPE_KEY, DjangoClientHTTP, sdk_client

URLS = "sandbox.tests.urls"
DEMO_PRICES = {"starter": Decimal("2.50"), "value": Decimal("6.50"), "premium": Decimal("14.50")}


class StandInHTTP(DjangoClientHTTP):
    """The stand-in, answering Stripe's 500 instead for requests `fail_when(method, path)`
    picks; `.sent` keeps every request."""

    def __init__(self):
        super().__init__(Client())
        self.fail_when = lambda method, path: False

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = url.removeprefix(API_BASE)
        if self.fail_when(method, path):
            self.sent.append({"method": method, "path": path, "failed": True})
            body = {"error": {"type": "api_error", "message": "Something went wrong."}}
            return json.dumps(body), 500, {"Request-Id": "req_standin_500"}
        return super().request(method, url, headers, post_data, _usage=_usage)

    def writes(self) -> list[str]:
        """The POSTs that reached the stand-in, as `POST /v1/...`."""
        return [
            f"POST {s['path'].removeprefix('/sandbox/stripe')}"
            for s in self.sent
            if s["method"].lower() == "post" and not s.get("failed")
        ]


def stand_in(settings, monkeypatch, *modules) -> StandInHTTP:
    """Stripe configured as `make run` configures it, with StripeService in `modules` reaching
    the stand-in through the test client."""
    settings.SANDBOX = True  # the stand-in answers only with the sandbox on
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_API_BASE = API_BASE
    settings.STRIPE_CURRENCY = "USD"
    http = StandInHTTP()
    for module in modules:
        monkeypatch.setattr(module, "StripeService", lambda: StripeService.over(http))
    return http


def prices_give(prices: dict[str, Decimal] = DEMO_PRICES) -> None:
    for code, amount in prices.items():
        CreditPackage.objects.filter(code=code).update(stripe_price=amount)


def package(code: str) -> CreditPackage:
    return CreditPackage.objects.get(code=code)


def active_prices(code: str) -> list[StripeSandboxPrice]:
    """The package's product's active prices at the stand-in."""
    return list(
        StripeSandboxPrice.objects.filter(
            product__stripe_id=package(code).stripe_product_id, active=True
        )
    )


def counts() -> tuple[int, int]:
    return StripeSandboxProduct.objects.count(), StripeSandboxPrice.objects.count()


def dashboard():
    """The SDK as someone editing the catalogue by hand (Stripe's dashboard) would change it."""
    return sdk_client(DjangoClientHTTP(Client()))
