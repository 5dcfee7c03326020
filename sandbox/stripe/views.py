"""Thin views for the Stripe stand-in: Stripe's v1 API (form-encoded bodies, a bearer test key,
Stripe's error envelope, idempotency keys on POSTs) and the browser's checkout page."""

import base64
import binascii
import hmac
import json
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.apps import sandbox_enabled
from sandbox.stripe import catalog, disputes, idempotency, refunds, services, shapes
from sandbox.stripe.forms import Params, StripeError, form_parse
from sandbox.stripe.models import stripe_id

TEST_KEY_PREFIX = "sk_test_"
NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)


def _masked(key: str) -> str:
    """A key as Stripe echoes a wrong one: its prefix and last four characters only."""
    return f"{key[:8]}{'*' * max(len(key) - 12, 4)}{key[-4:]}" if len(key) > 12 else "****"


def _given_key(authorization: str) -> str:
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() == "basic":  # `curl -u sk_test_…:`, as Stripe's own examples call it
        try:
            return base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def auth_error(authorization: str | None) -> StripeError | None:
    """None for an `sk_test_…` key (STRIPE_SECRET_KEY itself, when that is set); else the 401."""
    key = _given_key(authorization or "")
    if not key:
        return StripeError(NO_KEY, http_status=401)
    configured = (getattr(settings, "STRIPE_SECRET_KEY", "") or "").strip()
    is_test = key.startswith(TEST_KEY_PREFIX) and len(key) > len(TEST_KEY_PREFIX)
    matches = not configured or hmac.compare_digest(configured.encode(), key.encode())
    if is_test and matches:
        return None
    hint = "" if is_test else " The Stripe sandbox accepts test secret keys (sk_test_…) only."
    return StripeError(
        f"Invalid API Key provided: {_masked(key)}.{hint}", http_status=401, code="api_key_invalid"
    )


def _respond(answer: idempotency.Answer, *, request_id: str, key: str | None) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
    response["Request-Id"] = request_id
    response["Stripe-Version"] = shapes.API_VERSION
    if key:
        response["Idempotency-Key"] = key
    if answer.replay_of:
        response["Idempotent-Replayed"] = "true"
        response["Original-Request"] = answer.replay_of
    if answer.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Stripe"'
    return response


def _unrecognized(request) -> idempotency.Answer:
    path = request.path[request.path.find("/v1/") :]
    message = (
        f"Unrecognized request URL ({request.method}: {path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    if "//v1/" in request.path:
        message += (
            " (Stripe sandbox: the SDK's api base address ends with '/'; "
            "set it to …/sandbox/stripe without the trailing slash.)"
        )
    error = StripeError(message, http_status=404)
    return idempotency.Answer(error.http_status, json.dumps(error.body()))


def _error(exc: StripeError) -> idempotency.Answer:
    return idempotency.Answer(exc.http_status, json.dumps(exc.body()))


def _answer(request, view, args, kwargs, *, request_id: str, key: str | None):
    error = auth_error(request.headers.get("Authorization"))
    if error:
        return _error(error)
    form = request.POST if request.method == "POST" else request.GET
    items = list(form.lists())
    try:
        params = Params(form_parse(items))
    except StripeError as exc:
        return _error(exc)
    ref = {"id": request_id, "idempotency_key": key}

    def work() -> dict:
        return view(request, *args, params=params, ref=ref, **kwargs)

    if request.method == "GET":
        try:
            return idempotency.Answer(200, json.dumps(work()))
        except StripeError as exc:
            return _error(exc)
    print_ = idempotency.fingerprint(method=request.method, path=request.path, items=items)
    return idempotency.run(key=key, print_=print_, request_id=request_id, work=work)


def stripe_api(*methods: str):
    """A Stripe v1 endpoint: 404 unless the sandbox is on; Stripe's 404 for another method; 401
    without a test key; the view's dict (or StripeError) as JSON; POSTs once per idempotency key."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not sandbox_enabled():
                raise Http404("The sandbox is off.")
            request_id = stripe_id("req_", 14)
            key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
            if request.method in methods:
                answer = _answer(request, view, args, kwargs, request_id=request_id, key=key)
            else:
                answer = _unrecognized(request)
            return _respond(answer, request_id=request_id, key=key)

        return wrapped

    return decorate


@csrf_exempt
def unrecognized(request, rest: str = ""):
    """Any other `/v1/…` URL, answered as Stripe answers one it does not know."""
    if not sandbox_enabled():
        raise Http404("The sandbox is off.")
    return _respond(_unrecognized(request), request_id=stripe_id("req_", 14), key=None)


# --- Products and prices -----------------------------------------------------------------------


def _listed(rows_more, shape, url: str) -> dict:
    rows, has_more = rows_more
    return shapes.list_object([shape(row) for row in rows], url=url, has_more=has_more)


@stripe_api("GET", "POST")
def products(request, *, params, ref):
    """`POST /v1/products` creates; `GET /v1/products` lists."""
    if request.method == "POST":
        return shapes.product(catalog.product_create(params=params))
    return _listed(catalog.products_list(params=params), shapes.product, "/v1/products")


@stripe_api("GET", "POST")
def product(request, product_id: str, *, params, ref):
    """`GET /v1/products/{id}` reads; `POST` updates."""
    if request.method == "POST":
        return shapes.product(catalog.product_update(product_id=product_id, params=params))
    params.only()
    return shapes.product(catalog.product_get(product_id=product_id))


@stripe_api("GET", "POST")
def prices(request, *, params, ref):
    """`POST /v1/prices` creates a one-time price; `GET /v1/prices` lists and filters."""
    if request.method == "POST":
        return shapes.price(catalog.price_create(params=params))
    return _listed(catalog.prices_list(params=params), shapes.price, "/v1/prices")


@stripe_api("GET", "POST")
def price(request, price_id: str, *, params, ref):
    """`GET /v1/prices/{id}` reads; `POST` updates what Stripe lets change."""
    if request.method == "POST":
        return shapes.price(catalog.price_update(price_id=price_id, params=params))
    params.only()
    return shapes.price(catalog.price_get(price_id=price_id))


# --- Checkout Sessions -------------------------------------------------------------------------


def checkout_url(request, session_id: str) -> str:
    """The absolute URL of the stand-in's checkout page for a session."""
    return request.build_absolute_uri(reverse("sandbox_stripe:checkout", args=[session_id]))


@stripe_api("POST")
def sessions(request, *, params, ref):
    """`POST /v1/checkout/sessions`."""
    created = services.session_create(
        params=params, page_url_for=lambda session_id: checkout_url(request, session_id)
    )
    return services.session_body(session=created, expand=services.expand_list(params))


@stripe_api("GET")
def session(request, session_id: str, *, params, ref):
    """`GET /v1/checkout/sessions/{id}`: the session as it stands now."""
    params.only()
    found = services.session_get(session_id=session_id)
    return services.session_body(session=found, expand=services.expand_list(params))


@stripe_api("POST")
def session_expire(request, session_id: str, *, params, ref):
    """`POST /v1/checkout/sessions/{id}/expire`."""
    params.only()
    expired = services.session_expire(session_id=session_id, request=ref)
    return services.session_body(session=expired, expand=services.expand_list(params))


@stripe_api("GET")
def session_line_items(request, session_id: str, *, params, ref):
    """`GET /v1/checkout/sessions/{id}/line_items`."""
    return services.session_line_items(session_id=session_id, params=params)


# --- Refunds and charges -----------------------------------------------------------------------


@stripe_api("POST")
def refund_create(request, *, params, ref):
    """`POST /v1/refunds`."""
    return shapes.refund(refunds.refund_create(params=params, request=ref))


@stripe_api("GET")
def refund(request, refund_id: str, *, params, ref):
    """`GET /v1/refunds/{id}`."""
    params.only()
    return shapes.refund(refunds.refund_get(refund_id=refund_id))


@stripe_api("GET")
def charge(request, charge_id: str, *, params, ref):
    """`GET /v1/charges/{id}`."""
    params.only()
    return shapes.charge(refunds.charge_get(charge_id=charge_id))


# --- Disputes ----------------------------------------------------------------------------------


@stripe_api("POST")
def dispute_open(request, *, params, ref):
    """Stand-in test helper `POST /v1/test_helpers/disputes`."""
    return shapes.dispute(disputes.dispute_create(params=params, request=ref))


@stripe_api("POST")
def dispute_helper_close(request, dispute_id: str, *, params, ref):
    """Stand-in test helper `POST /v1/test_helpers/disputes/{id}/close` (`status`)."""
    closed = disputes.helper_close(dispute_id=dispute_id, params=params, request=ref)
    return shapes.dispute(closed)


@stripe_api("GET")
def dispute(request, dispute_id: str, *, params, ref):
    """`GET /v1/disputes/{id}`."""
    params.only()
    return shapes.dispute(disputes.dispute_get(dispute_id=dispute_id))


@stripe_api("POST")
def dispute_accept(request, dispute_id: str, *, params, ref):
    """`POST /v1/disputes/{id}/close`: the merchant accepts; the dispute is lost."""
    return shapes.dispute(disputes.accept(dispute_id=dispute_id, params=params, request=ref))


# --- The checkout page -------------------------------------------------------------------------

PAY_ACTIONS = {"pay": "card", "delayed": "delayed_succeeds", "delayed_fail": "delayed_fails"}
NOT_OPEN = "This Checkout Session is no longer open: it has been paid or has expired."


def _page(request, found, *, status: int = 200, **extra):
    charge_row = getattr(found, "charge", None)
    remaining = charge_row.amount - charge_row.amount_refunded if charge_row else 0
    dispute_row = getattr(charge_row, "dispute", None) if charge_row else None
    context = {
        "session": found,
        "state": services.page_state(found),
        "amount": shapes.amount_display(found.amount_total, found.currency),
        "items": [
            (
                row.price.product.name,
                row.quantity,
                shapes.amount_display(row.amount, row.price.currency),
            )
            for row in found.line_items.select_related("price__product")
        ],
        "charge": charge_row,
        "dispute": dispute_row,
        "dispute_amount": shapes.amount_display(dispute_row.amount, dispute_row.currency)
        if dispute_row
        else None,
        "dispute_outcomes": disputes.CLOSING,
        "refunded": shapes.amount_display(charge_row.amount_refunded, found.currency)
        if charge_row
        else None,
        "refundable": shapes.amount_display(remaining, found.currency) if remaining else None,
        "card": shapes.TEST_CARD,
        **extra,
    }
    return render(request, "sandbox/stripe/checkout.html", context, status=status)


def _pay(request, found, method: str):
    email = found.customer_email or request.POST.get("email", "").strip()
    if "@" not in email or len(email) > 254:
        return _page(request, found, status=400, error="Enter a valid email address.")
    done = services.checkout_pay(session_id=found.stripe_id, email=email, method=method)
    if done is None:  # another submit got there first
        return _page(request, services.session_get(session_id=found.stripe_id), status=410)
    if done.success_url:
        target = done.success_url.replace(services.SESSION_ID_TEMPLATE, done.stripe_id)
        return HttpResponseRedirect(target)
    return _page(request, done)


def _refund(request, found):
    text = request.POST.get("refund_amount", "").strip()
    try:
        amount = shapes.amount_parse(text, found.currency) if text else None
        refunds.checkout_refund(session_id=found.stripe_id, amount=amount)
    except ValueError:
        return _page(request, found, status=400, error="Enter the refund as an amount, e.g. 5.00.")
    except StripeError as exc:
        return _page(request, found, status=400, error=exc.message)
    # Redirect, so reloading the page cannot send the refund again.
    return HttpResponseRedirect(f"{request.path}?refunded=1")


def _dispute(request, found, action: str):
    """The page's sandbox-only dispute buttons: open one on the paid charge, or close it."""
    charge_row = getattr(found, "charge", None)
    if charge_row is None:
        return _page(request, found, status=400, error="This session has no payment to dispute.")
    try:
        if action == "dispute_open":
            params = Params({"charge": charge_row.stripe_id})
            disputes.dispute_create(params=params, request=None)
        else:
            opened = getattr(charge_row, "dispute", None)
            if opened is None:
                return _page(request, found, status=400, error="This payment has no dispute.")
            status = request.POST.get("status", "")
            disputes.dispute_close(dispute_id=opened.stripe_id, status=status, request=None)
    except StripeError as exc:
        return _page(request, found, status=400, error=exc.message)
    return HttpResponseRedirect(f"{request.path}?disputed=1")


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request, session_id: str):
    """The page a session's `url` opens: pay (at once or by a delayed method), decline, cancel;
    once paid, sandbox-only buttons to refund it and to open and close a dispute."""
    if not sandbox_enabled():
        raise Http404("The sandbox is off.")
    try:
        found = services.session_get(session_id=session_id)
    except StripeError as exc:
        raise Http404("No such checkout session.") from exc
    if request.method == "GET":
        return _page(
            request,
            found,
            refunded_now=request.GET.get("refunded") == "1",
            disputed_now=request.GET.get("disputed") == "1",
        )
    action = request.POST.get("action", "")
    if action == "refund":
        return _refund(request, found)
    if action in {"dispute_open", "dispute_close"}:
        return _dispute(request, found, action)
    if action not in {*PAY_ACTIONS, "decline", "cancel"}:
        return _page(request, found, status=400, error="Choose Pay, Decline or Cancel.")
    if found.status != found.Status.OPEN:
        return _page(request, found, status=410, error=NOT_OPEN)
    if action in PAY_ACTIONS:
        return _pay(request, found, PAY_ACTIONS[action])
    if action == "decline":  # a declined card leaves the session open for another try
        return _page(request, found, status=402, error="Your card has been declined.")
    if found.cancel_url:
        return HttpResponseRedirect(found.cancel_url)
    return _page(request, found, cancelled=True)
