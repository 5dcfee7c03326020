"""Thin views: Paystack's JSON API (bearer key) and the browser's one-time checkout page."""

from functools import wraps

from django.conf import settings
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from paystack_sandbox import disputes, openai_standin, services
from paystack_sandbox.models import SandboxDispute, SandboxTransaction
from paystack_sandbox.services import SandboxError
from paystack_sandbox.stripe_models import StripeSandboxCharge
from paystack_sandbox.stripe_shapes import amount_display as stripe_amount
from paystack_sandbox.stripe_shapes import amount_parse
from pos.jsonsafe import json_loads


def sandbox_enabled() -> bool:
    return bool(getattr(settings, "PAYSTACK_SANDBOX", False))


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
    checkout_url = reverse("paystack_sandbox:checkout", args=[txn.access_code])
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
    return render(request, "paystack_sandbox/checkout.html", context, status=status)


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


# --- The sandbox dashboard -----------------------------------------------------------------------

DASHBOARD_ROWS = 20
DASHBOARD_DONE = {
    "refund": "Refund sent: the app is told by a refund.processed webhook.",
    "dispute_open": "Dispute opened: the app is told by a charge.dispute.create webhook.",
    "dispute_resolve": "Dispute resolved: the app is told by a charge.dispute.resolve webhook.",
}


def _dashboard_page(request, *, status: int = 200, error: str = ""):
    rows = []
    for txn in SandboxTransaction.objects.order_by("-pk")[:DASHBOARD_ROWS]:
        refunded = services.refunded_total(txn)
        opened = txn.disputes.filter(status=SandboxDispute.Status.AWAITING_MERCHANT).first()
        rows.append(
            {
                "txn": txn,
                "amount": services.amount_display(txn.amount, txn.currency),
                "refunded": services.amount_display(refunded, txn.currency) if refunded else "",
                "refundable": txn.status == txn.Status.SUCCESS and refunded < txn.amount,
                "disputable": txn.status == txn.Status.SUCCESS and opened is None,
                "dispute": opened,
                "resolved": txn.disputes.filter(status=SandboxDispute.Status.RESOLVED),
            }
        )
    charges = StripeSandboxCharge.objects.select_related("session").order_by("-pk")
    stripe_rows = [
        {
            "charge": charge,
            "amount": stripe_amount(charge.amount, charge.currency),
            "refunded": stripe_amount(charge.amount_refunded, charge.currency)
            if charge.amount_refunded
            else "",
            "page": reverse("stripe_sandbox:checkout", args=[charge.session.stripe_id]),
            "dispute": getattr(charge, "dispute", None),
        }
        for charge in charges[:DASHBOARD_ROWS]
    ]
    context = {
        "rows": rows,
        "stripe_rows": stripe_rows,
        "resolutions": disputes.RESOLUTIONS,
        "done": DASHBOARD_DONE.get(request.GET.get("done", "")),
        "error": error,
    }
    return render(request, "paystack_sandbox/dashboard.html", context, status=status)


def _dashboard_act(post) -> str:
    """Do what a dashboard button asks, through the same services as the API; its name."""
    action = post.get("action", "")
    reference = post.get("reference", "")
    if action == "refund":
        typed = post.get("refund_amount", "").strip()
        txn = services.transaction_get(reference)
        try:
            amount = amount_parse(typed, txn.currency.lower()) if typed else None
        except ValueError as exc:
            raise SandboxError("Enter the refund as an amount, e.g. 5.00.") from exc
        services.refund_create({"transaction": reference, "amount": amount})
    elif action == "dispute_open":
        disputes.dispute_open({"transaction": reference})
    elif action == "dispute_resolve":
        dispute_id = post.get("dispute", "")
        if not dispute_id.isdigit() or len(dispute_id) > 18:
            raise SandboxError(disputes.NOT_FOUND)
        disputes.dispute_resolve(int(dispute_id), {"resolution": post.get("resolution")})
    else:
        raise SandboxError("Choose Refund, Open a dispute or Resolve.")
    return action


@never_cache
@require_http_methods(["GET", "POST"])
def dashboard(request):
    """The sandbox's stand-in for the gateways' dashboards: the latest payments, with
    sandbox-only buttons to refund a Paystack payment and to open and resolve a dispute (each
    sends its webhook, as the API calls do), and links to the Stripe payments' own pages."""
    if not sandbox_enabled():
        raise Http404("The sandbox is off.")
    if request.method == "GET":
        return _dashboard_page(request)
    try:
        action = _dashboard_act(request.POST)
    except SandboxError as exc:
        return _dashboard_page(request, status=400, error=exc.message)
    # Post/redirect/get: reloading the page cannot send the refund again.
    return HttpResponseRedirect(f"{request.path}?done={action}")


@csrf_exempt
def openai_chat_completions(request):
    """`POST {AI_PROVIDER_BASE_URL}/chat/completions`, as an OpenAI-compatible server answers."""
    if not sandbox_enabled():
        raise Http404("The sandbox is off.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    bearer = request.headers.get("Authorization", "")
    if not bearer.startswith("Bearer ") or not bearer[len("Bearer ") :].strip():
        return JsonResponse(
            {
                "error": {
                    "message": "You didn't provide an API key.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )
    try:
        return JsonResponse(openai_standin.completion_for(_json_or_none(request)))
    except openai_standin.StandInError as exc:
        if isinstance(exc.body, str):
            return HttpResponse(exc.body, status=exc.status, content_type="text/html")
        return JsonResponse(exc.body, status=exc.status)


def _json_or_none(request):
    try:
        return json_loads(request.body or b"null")  # too deep: a ValueError
    except ValueError:
        return None
