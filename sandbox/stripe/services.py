"""The Stripe stand-in's behaviour: Checkout Sessions, what the checkout page does with them,
and refunds. Each change that Stripe would announce records its event in the same transaction;
the event leaves once that transaction commits."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from sandbox.stripe import shapes, webhooks
from sandbox.stripe.catalog import AMOUNT_MAX, list_page
from sandbox.stripe.forms import (
    Params,
    metadata_apply,
    param_invalid,
    param_missing,
    resource_missing,
    state_error,
)
from sandbox.stripe.models import (
    StripeSandboxCharge,
    StripeSandboxLineItem,
    StripeSandboxPrice,
    StripeSandboxProduct,
    StripeSandboxSession,
    stripe_id,
)

logger = logging.getLogger(__name__)

Session = StripeSandboxSession
SESSION_PARAMS = (
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "customer_email",
    "metadata",
    "payment_intent_data",
    "payment_method_types",
    "expires_at",
)
LINE_ITEMS_MAX = 100
QUANTITY_MAX = 999_999
# Stripe's smallest charge in USD; smaller totals are refused when the session is created.
MINIMUM_AMOUNTS = {"usd": 50}
EXPIRES_MIN = timedelta(minutes=30)
EXPIRES_MAX = timedelta(hours=24)
EXPANDABLE = ("line_items",)
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"


def expand_list(params: Params) -> list[str]:
    """`expand[]`: the sandbox can expand a session's `line_items` and nothing else."""
    wanted = params.strings("expand") or []
    for name in wanted:
        if name not in EXPANDABLE:
            raise param_invalid("expand", f"This property cannot be expanded ({name}).")
    return wanted


# --- Creating a session ------------------------------------------------------------------------


def _ad_hoc_price(data: Params) -> StripeSandboxPrice:
    """`price_data`: a hidden one-time price (and product, from `product_data`) for one session."""
    data.only("currency", "unit_amount", "product", "product_data")
    currency = data.currency()
    unit_amount = data.integer("unit_amount", required=True, maximum=AMOUNT_MAX)
    product_id = data.string("product")
    product_data = data.hash("product_data")
    if bool(product_id) == bool(product_data):
        raise param_invalid(data.name("product"), "Pass either product or product_data.")
    if product_id:
        product = StripeSandboxProduct.objects.filter(stripe_id=product_id).first()
        if product is None:
            raise resource_missing("product", product_id, data.name("product"), 400)
    else:
        product_data.only("name", "description", "metadata")
        product = StripeSandboxProduct.objects.create(
            stripe_id=stripe_id("prod_", 14),
            name=product_data.string("name", required=True, max_length=250),
            description=product_data.string("description"),
            active=False,
            metadata=metadata_apply({}, product_data.metadata()),
        )
    return StripeSandboxPrice.objects.create(
        stripe_id=stripe_id("price_1"),
        product=product,
        currency=currency,
        unit_amount=unit_amount,
        active=False,
    )


def _line_items(params: Params) -> list[tuple[StripeSandboxPrice, int]]:
    raw_items = params.array("line_items")
    if not raw_items:
        raise param_missing("line_items")
    if len(raw_items) > LINE_ITEMS_MAX:
        raise param_invalid("line_items", f"A session takes at most {LINE_ITEMS_MAX} line items.")
    items = []
    for index, raw in enumerate(raw_items):
        name = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise param_invalid(name, f"Invalid object: {name}")
        item = Params(raw, name)
        item.only("price", "price_data", "quantity")
        quantity = item.integer("quantity", required=True, minimum=1, maximum=QUANTITY_MAX)
        price_id, price_data = item.string("price"), item.hash("price_data")
        if bool(price_id) == bool(price_data):
            raise param_invalid(name, f"Pass either {name}[price] or {name}[price_data].")
        if price_data:
            items.append((_ad_hoc_price(price_data), quantity))
            continue
        price = StripeSandboxPrice.objects.select_related("product").filter(stripe_id=price_id)
        price = price.first()
        if price is None:
            raise resource_missing("price", price_id, item.name("price"), http_status=400)
        if not price.active:
            raise param_invalid(
                item.name("price"),
                "The price specified is inactive. This field only accepts active prices.",
            )
        items.append((price, quantity))
    return items


def _total(items: list[tuple[StripeSandboxPrice, int]]) -> tuple[str, int]:
    currencies = {price.currency for price, _ in items}
    if len(currencies) > 1:
        raise param_invalid("line_items", "All line items must be in the same currency.")
    currency = currencies.pop()
    total = sum(price.unit_amount * quantity for price, quantity in items)
    minimum = MINIMUM_AMOUNTS.get(currency, 0)
    if total < minimum:
        raise param_invalid(
            "line_items",
            "The Checkout Session's total amount due must add up to at least "
            f"{shapes.amount_display(minimum, currency)}.",
            code="amount_too_small",
        )
    if total > AMOUNT_MAX:
        raise param_invalid(
            "line_items",
            f"Amount must be no more than {shapes.amount_display(AMOUNT_MAX, currency)}.",
            code="amount_too_large",
        )
    return currency, total


def _expires_at(params: Params, now):
    stamp = params.integer("expires_at")
    if stamp is None:
        return now + EXPIRES_MAX
    moment = datetime.fromtimestamp(stamp, tz=UTC)
    # A second of slack: the caller computed its timestamp a moment before we read it.
    if not now + EXPIRES_MIN - timedelta(seconds=1) <= moment <= now + EXPIRES_MAX:
        raise param_invalid(
            "expires_at", "expires_at must be 30 minutes to 24 hours after the session is created."
        )
    return moment


def _email(value: str | None, param: str) -> str | None:
    if value is not None and ("@" not in value or len(value) > 254):
        raise param_invalid(param, f"Invalid email address: {value}", code="email_invalid")
    return value


def session_create(*, params: Params, page_url_for: Callable[[str], str]) -> Session:
    """`POST /v1/checkout/sessions` in `payment` mode; `page_url_for(id)` is the checkout page."""
    params.only(*SESSION_PARAMS)
    expand_list(params)
    mode = params.choice("mode", ("payment", "setup", "subscription"), required=True)
    if mode != "payment":
        raise param_invalid("mode", "The Stripe sandbox supports mode=payment only.")
    methods = params.strings("payment_method_types")
    if methods is not None and methods != ["card"]:
        raise param_invalid("payment_method_types", "The Stripe sandbox takes cards only.")
    intent_data = params.hash("payment_intent_data")
    if intent_data:
        intent_data.only("metadata")
    items = _line_items(params)
    currency, total = _total(items)
    now = timezone.now()
    session_id = stripe_id("cs_test_a1", 58)
    session = Session.objects.create(
        stripe_id=session_id,
        currency=currency,
        amount_total=total,
        success_url=params.url("success_url"),
        cancel_url=params.url("cancel_url"),
        client_reference_id=params.string("client_reference_id", max_length=200),
        customer_email=_email(params.string("customer_email"), "customer_email"),
        metadata=metadata_apply({}, params.metadata()),
        payment_intent_metadata=metadata_apply({}, intent_data.metadata() if intent_data else None),
        page_url=page_url_for(session_id),
        expires_at=_expires_at(params, now),
    )
    for position, (price, quantity) in enumerate(items):
        StripeSandboxLineItem.objects.create(
            stripe_id=stripe_id("li_1"),
            session=session,
            price=price,
            quantity=quantity,
            position=position,
        )
    logger.info("stripe sandbox session %s for %s %s", session.stripe_id, total, currency)
    return session


# --- Reading and expiring ----------------------------------------------------------------------


def session_get(*, session_id: str) -> Session:
    """The session with this id, or Stripe's 404; an open session whose time is up expires
    first (and says so), as Stripe expires sessions shortly after `expires_at`."""
    session = Session.objects.filter(stripe_id=session_id).first()
    if session is None:
        raise resource_missing("checkout.session", session_id, "session")
    if session.status == Session.Status.OPEN and session.expires_at <= timezone.now():
        session = session_expire(session_id=session_id, request=None, due_only=True)
    return session


def session_expire(*, session_id: str, request: dict | None, due_only: bool = False) -> Session:
    """`POST /v1/checkout/sessions/{id}/expire`: an open session expires and
    `checkout.session.expired` is sent; any other status is refused, as Stripe refuses it.
    `due_only` expires it only if its `expires_at` has passed, and never refuses."""
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(stripe_id=session_id).first()
        if session is None:
            raise resource_missing("checkout.session", session_id, "session")
        is_open = session.status == Session.Status.OPEN
        if due_only and (not is_open or session.expires_at > timezone.now()):
            return session
        if not is_open:
            raise state_error(
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session.status}".'
            )
        session.status = Session.Status.EXPIRED
        session.save(update_fields=["status"])
        event = webhooks.event_record(
            event_type="checkout.session.expired",
            data_object=shapes.session(session),
            request=request,
        )
        webhooks.events_send(event)
    logger.info("stripe sandbox session %s expired", session.stripe_id)
    return session


def _line_item_rows(session: Session):
    return session.line_items.select_related("price__product")


def session_body(*, session: Session, expand: list[str]) -> dict:
    """The session as Stripe answers it, with its first line items when `expand` asks."""
    line_items = None
    if "line_items" in expand:
        rows = list(_line_item_rows(session)[:11])
        data = [shapes.line_item(row) for row in rows[:10]]
        line_items = shapes.line_items_list(session, data, has_more=len(rows) > 10)
    return shapes.session(session, line_items=line_items)


def session_line_items(*, session_id: str, params: Params) -> dict:
    """`GET /v1/checkout/sessions/{id}/line_items`, in the order they were sent."""
    params.only("limit", "starting_after", "ending_before")
    session = session_get(session_id=session_id)
    rows, has_more = list_page(
        params=params, queryset=_line_item_rows(session), kind="line_item", newest_first=False
    )
    return shapes.line_items_list(session, [shapes.line_item(row) for row in rows], has_more)


# --- The checkout page -------------------------------------------------------------------------

# How the payer pays: a card settles at once; a delayed method settles later, one way or the other.
PAY_METHODS = {
    "card": Session.AsyncOutcome.NONE,
    "delayed_succeeds": Session.AsyncOutcome.SUCCEEDS,
    "delayed_fails": Session.AsyncOutcome.FAILS,
}


def page_state(session: Session) -> str:
    """What the checkout page shows: open, paid, processing, failed or expired."""
    if session.status == Session.Status.OPEN:
        return "open"
    if session.status == Session.Status.EXPIRED:
        return "expired"
    if session.payment_status == Session.PaymentStatus.PAID:
        return "paid"
    return "processing" if session.async_outcome else "failed"


def _charge_create(session: Session) -> StripeSandboxCharge:
    return StripeSandboxCharge.objects.create(
        stripe_id=stripe_id("ch_3"),
        session=session,
        payment_intent_id=session.payment_intent_id,
        amount=session.amount_total,
        currency=session.currency,
        metadata=session.payment_intent_metadata,
    )


def checkout_pay(*, session_id: str, email: str | None, method: str) -> Session | None:
    """Complete an open session, once: paid by card, or left processing by a delayed method
    that settles a moment later. None when the session is no longer open (paid or expired).

    The row lock is the guard: of two submits, the second finds the session complete.
    """
    outcome = PAY_METHODS[method]
    session_get(session_id=session_id)  # expires it first if its time is up
    with transaction.atomic():
        session = Session.objects.select_for_update().get(stripe_id=session_id)
        if session.status != Session.Status.OPEN:
            return None
        session.status = Session.Status.COMPLETE
        session.completed_at = timezone.now()
        session.customer_details_email = session.customer_email or email
        session.payment_intent_id = stripe_id("pi_3")
        session.async_outcome = outcome
        session.payment_status = (
            Session.PaymentStatus.UNPAID if outcome else Session.PaymentStatus.PAID
        )
        session.save()
        if not outcome:
            _charge_create(session)
        completed = webhooks.event_record(
            event_type="checkout.session.completed", data_object=shapes.session(session)
        )
        steps = [webhooks.deliver_step(completed)]
        if outcome:
            steps.append(
                (webhooks.ASYNC_SETTLE_SECONDS, partial(async_settle, session_pk=session.pk))
            )
        webhooks.after_commit(*steps)
    logger.info("stripe sandbox session %s completed by %s", session.stripe_id, method)
    return session


def async_settle(*, session_pk: int) -> None:
    """A delayed payment method settles: the session is paid (or stays unpaid) and
    `checkout.session.async_payment_succeeded` (or `…_failed`) is sent. Runs once."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session_pk)
        outcome = session.async_outcome
        if session.status != Session.Status.COMPLETE or not outcome:
            return
        session.async_outcome = Session.AsyncOutcome.NONE
        if outcome == Session.AsyncOutcome.SUCCEEDS:
            session.payment_status = Session.PaymentStatus.PAID
            _charge_create(session)
        session.save()
        suffix = "succeeded" if outcome == Session.AsyncOutcome.SUCCEEDS else "failed"
        event = webhooks.event_record(
            event_type=f"checkout.session.async_payment_{suffix}",
            data_object=shapes.session(session),
        )
    # Already after the checkout's commit (inline or in the sender thread): send at once.
    webhooks.event_deliver(event_pk=event.pk)
