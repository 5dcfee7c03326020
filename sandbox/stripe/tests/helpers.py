"""Helpers for driving the sandbox's Stripe stand-in from tests, the sandbox's own and the app's:
the real `stripe` SDK, or the app's StripeService, sent in-process to the stand-in's views
(sandbox.stripe.in_process); readers for the webhooks the stand-in sends; the catalogue as the
app's packages see it."""

import json
from decimal import Decimal

import stripe
from django.test import Client

from ai_features.management.commands.setup_demo import DEMO_STRIPE_PRICES
from ai_features.models import CreditPackage
from ai_features.payments.gateways.stripe import StripeService
from sandbox.stripe.in_process import MOUNT, InProcessHTTP
from sandbox.stripe.models import StripeSandboxEvent, StripeSandboxPrice, StripeSandboxProduct

URLS = "sandbox.tests.urls"  # the project's URLs with the sandbox mounted
STRIPE_KEY = "sk_test_sandbox_stripe_standin"
WEBHOOK_SECRET = "whsec_sandbox_standin_secret"
STRIPE_HOOK_URL = "http://hooks.test/ai/api/webhooks/stripe/"
SERVER = "http://testserver"
# What the app sets as STRIPE_API_BASE: the mount point, without a trailing slash.
API_BASE = f"{SERVER}{MOUNT}"
API = f"{MOUNT}/v1"
SUCCESS_URL = "http://shop.test/payment/callback?gateway=stripe&session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://shop.test/payment/callback?gateway=stripe&cancelled=1&reference=REF-1"


def in_process() -> InProcessHTTP:
    """The one transport, with a view's exception raised into the test rather than a 500."""
    return InProcessHTTP(Client())


def sdk_client(http: InProcessHTTP, api_key: str = STRIPE_KEY) -> stripe.StripeClient:
    """The StripeClient the app builds, with the stand-in in-process as its transport."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": API_BASE},
        http_client=http,
        max_network_retries=0,
    )


def hook_calls(mock) -> list:
    """The webhook POSTs `responses` caught, in order."""
    return [call for call in mock.calls if call.request.url == STRIPE_HOOK_URL]


def raw_body(call) -> bytes:
    body = call.request.body
    return body.encode() if isinstance(body, str) else body


def verified_event(call, secret: str = WEBHOOK_SECRET) -> stripe.Event:
    """The event a webhook POST carried, after the SDK verified its signature on the raw bytes."""
    return stripe.Webhook.construct_event(
        raw_body(call), call.request.headers["Stripe-Signature"], secret, tolerance=300
    )


def event_types(mock) -> list[str]:
    return [json.loads(raw_body(call))["type"] for call in hook_calls(mock)]


def recorded(event_type: str) -> StripeSandboxEvent:
    return StripeSandboxEvent.objects.get(type=event_type)


def credit_price(sdk, *, unit_amount: int = 999, name: str = "Value pack") -> str:
    """A product with one active USD price, as the setup command leaves a package; its id."""
    product = sdk.v1.products.create(params={"name": name, "metadata": {"package": "value"}})
    price = sdk.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": unit_amount}
    )
    return price.id


def session_params(price_id: str, **overrides) -> dict:
    """What the app sends for a purchase (design section 13); `field=...` leaves one out."""
    params = {
        "mode": "payment",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": "AI-CRED-0001",
        "customer_email": "ama@example.com",
        "metadata": {"purchase_id": "7", "business_id": "3"},
        "payment_intent_data": {"metadata": {"reference": "AI-CRED-0001", "purchase_id": "7"}},
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not ...}


def open_session(sdk, price_id: str | None = None, **overrides):
    """A fresh open Checkout Session for one package."""
    price_id = price_id or credit_price(sdk)
    return sdk.v1.checkout.sessions.create(params=session_params(price_id, **overrides))


def page_path(session) -> str:
    """The checkout page's path, from the session's own `url`."""
    assert session.url.startswith(f"{API_BASE}/checkout/"), session.url
    return session.url.removeprefix(SERVER)


def stand_in(settings, monkeypatch, *modules) -> InProcessHTTP:
    """Stripe configured as `make run` configures it, with StripeService in `modules` reaching
    the stand-in in-process; set `fail_when` on the transport to make Stripe fail."""
    settings.SANDBOX = True  # the stand-in answers only with the sandbox on
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_API_BASE = API_BASE
    settings.STRIPE_CURRENCY = "USD"
    http = in_process()
    for module in modules:
        monkeypatch.setattr(module, "StripeService", lambda: StripeService(http_client=http))
    return http


def prices_give(prices: dict[str, Decimal] = DEMO_STRIPE_PRICES) -> None:
    """Stripe prices for the packages, as setup_demo gives them."""
    for code, amount in prices.items():
        CreditPackage.objects.filter(code=code).update(stripe_price=amount)


def priced_stand_in(settings, monkeypatch, *modules) -> InProcessHTTP:
    """The stand-in (see `stand_in`) with the packages priced for Stripe as setup_demo prices
    them: where the catalogue sync starts."""
    prices_give()
    return stand_in(settings, monkeypatch, *modules)


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
    return sdk_client(in_process())
