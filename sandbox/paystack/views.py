"""Thin views: Paystack's JSON API (bearer key) and the browser's one-time checkout page."""

from functools import wraps

from django.http import (
    Http404,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pos.jsonsafe import json_loads
from sandbox.apps import sandbox_enabled
from sandbox.paystack import disputes, services
from sandbox.paystack.models import SandboxTransaction
from sandbox.paystack.services import SandboxError


def paystack_api(*methods: str):
    """A Paystack API endpoint: 404 unless the sandbox is on, 401 without the secret key, and
    SandboxError turned into Paystack's error envelope."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not sandbox_enabled():
                raise Http404("The Paystack sandbox is off.")
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            if not services.bearer_is_valid(request.headers.get("Authorization")):
                return JsonResponse({"status": False, "message": "Invalid key"}, status=401)
            try:
                return view(request, *args, **kwargs)
            except SandboxError as exc:
                return JsonResponse(exc.body(), status=exc.http_status)

        return wrapped

    return decorate


def _json_body(request):
    try:
        return json_loads(request.body or b"null")  # too deep: a ValueError
    except ValueError as exc:
        raise SandboxError(
            "Request body is not valid JSON", type="validation_error", code="invalid_params"
        ) from exc


@paystack_api("POST")
def initialize(request):
    txn = services.transaction_initialize(_json_body(request))
    checkout_url = reverse("sandbox_paystack:checkout", args=[txn.access_code])
    data = {
        "authorization_url": request.build_absolute_uri(checkout_url),
        "access_code": txn.access_code,
        "reference": txn.reference,
    }
    return JsonResponse({"status": True, "message": "Authorization URL created", "data": data})


@paystack_api("GET")
def verify(request, reference: str):
    data = services.transaction_data(services.transaction_get(reference))
    return JsonResponse({"status": True, "message": "Verification successful", "data": data})


@paystack_api("POST")
def refund(request):
    """`POST /refund`: `{transaction, amount?}`; `refund.processed` follows."""
    created = services.refund_create(_json_body(request))
    body = {
        "status": True,
        "message": "Refund has been queued for processing",
        "data": services.refund_data(created),
    }
    return JsonResponse(body)


@paystack_api("POST")
def dispute_open(request):
    """Sandbox-only `POST test_helpers/disputes`: `{transaction, refund_amount?, category?}`;
    `charge.dispute.create` follows."""
    opened = disputes.dispute_open(_json_body(request))
    data = disputes.dispute_data(opened)
    return JsonResponse({"status": True, "message": "Dispute created", "data": data})


@paystack_api("GET")
def dispute(request, dispute_id: int):
    """`GET /dispute/:id`."""
    data = disputes.dispute_data(disputes.dispute_get(dispute_id))
    return JsonResponse({"status": True, "message": "Dispute retrieved", "data": data})


@paystack_api("PUT")
def dispute_resolve(request, dispute_id: int):
    """`PUT /dispute/:id/resolve`: `{resolution, message?}`; `charge.dispute.resolve` follows."""
    resolved = disputes.dispute_resolve(dispute_id, _json_body(request))
    data = disputes.dispute_data(resolved)
    return JsonResponse({"status": True, "message": "Dispute successfully resolved", "data": data})


def _checkout_page(request, txn: SandboxTransaction, state: str, status: int = 200, **extra):
    context = {
        "txn": txn,
        "state": state,
        "amount": services.amount_display(txn.amount, txn.currency),
        "channel": services.channel_label(txn.channel),
        "choices": [(c, services.channel_label(c)) for c in services.channels_to_pick(txn)],
        **extra,
    }
    return render(request, "sandbox/paystack/checkout.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request, access_code: str):
    """The page Paystack's authorization_url opens; it works once."""
    if not sandbox_enabled():
        raise Http404("The Paystack sandbox is off.")
    txn = get_object_or_404(SandboxTransaction, access_code=access_code)
    if txn.checkout_used:
        return _checkout_page(request, txn, "used", status=410)
    if request.method == "GET":
        return _checkout_page(request, txn, "open")
    action = request.POST.get("action", "")
    if action not in services.CHECKOUT_ACTIONS:
        return _checkout_page(
            request, txn, "open", status=400, error="Choose Pay, Decline or Cancel."
        )
    choices = services.channels_to_pick(txn)
    channel = request.POST.get("channel") or (choices[0] if choices else None)
    if choices and channel not in choices:
        return _checkout_page(request, txn, "open", status=400, error="Choose a payment channel.")
    done = services.checkout_complete(access_code, action, channel if choices else None)
    if done is None:  # another submit got there first
        return _checkout_page(request, txn, "used", status=410)
    if done.callback_url:
        return HttpResponseRedirect(services.callback_redirect_url(done))
    return _checkout_page(request, done, "done", action=action)
