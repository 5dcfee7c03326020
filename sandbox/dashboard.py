"""The sandbox's stand-in for the gateways' dashboards, shared by the Paystack and Stripe
stand-ins: the latest payments of both, with buttons to refund and dispute them."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from sandbox.apps import sandbox_enabled
from sandbox.paystack import disputes, services
from sandbox.paystack.models import SandboxDispute, SandboxTransaction
from sandbox.paystack.services import SandboxError
from sandbox.stripe.models import StripeSandboxCharge
from sandbox.stripe.shapes import amount_display as stripe_amount
from sandbox.stripe.shapes import amount_parse

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
            "page": reverse("sandbox_stripe:checkout", args=[charge.session.stripe_id]),
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
    return render(request, "sandbox/dashboard.html", context, status=status)


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
