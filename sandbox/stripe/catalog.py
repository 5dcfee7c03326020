"""The Stripe stand-in's catalogue: Products and one-time Prices, as the app's
`setup_stripe_credit_products` command creates, updates and finds them; and Stripe's list paging."""

import re

from django.db.models import QuerySet

from sandbox.stripe.forms import (
    Params,
    StripeError,
    metadata_apply,
    param_invalid,
    resource_missing,
)
from sandbox.stripe.models import StripeSandboxPrice, StripeSandboxProduct, stripe_id

CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# Stripe's largest amount for a USD charge: 99,999,999 cents.
AMOUNT_MAX = 99_999_999
PRICE_CREATE_PARAMS = (
    "product",
    "currency",
    "unit_amount",
    "metadata",
    "lookup_key",
    "nickname",
    "active",
    "transfer_lookup_key",
    "recurring",
)


def list_page(
    *, params: Params, queryset: QuerySet, kind: str, newest_first: bool = True
) -> tuple[list, bool]:
    """One page of `queryset` by Stripe's `limit`, `starting_after` and `ending_before`;
    returns the rows and `has_more`."""
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    after, before = params.string("starting_after"), params.string("ending_before")
    if after and before:
        raise param_invalid("ending_before", "Use starting_after or ending_before, not both.")
    forward = "-pk" if newest_first else "pk"
    rows = queryset.order_by(forward)
    anchor_id = after or before
    if anchor_id:
        anchor = queryset.model.objects.filter(stripe_id=anchor_id).values_list("pk", flat=True)
        if not anchor:
            name = "starting_after" if after else "ending_before"
            raise resource_missing(kind, anchor_id, name, http_status=400)
        older = newest_first == bool(after)  # the rows past the anchor in the list's order
        rows = rows.filter(pk__lt=anchor[0]) if older else rows.filter(pk__gt=anchor[0])
        if before:  # walk back from the anchor, then put the page in the list's order
            rows = rows.reverse()
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    if before:
        page.reverse()
    return page, has_more


# --- Products ----------------------------------------------------------------------------------


def product_get(*, product_id: str) -> StripeSandboxProduct:
    """The product with this id, or Stripe's 404."""
    found = StripeSandboxProduct.objects.filter(stripe_id=product_id).first()
    if found is None:
        raise resource_missing("product", product_id, "id")
    return found


def product_create(*, params: Params) -> StripeSandboxProduct:
    """`POST /v1/products`: name (required), description, metadata, active, an optional own id."""
    params.only("id", "name", "description", "metadata", "active")
    custom_id = params.string("id")
    if custom_id is not None and not CUSTOM_ID.match(custom_id):
        raise param_invalid("id", "Product ids may use letters, digits, '_' and '-' only.")
    if custom_id and StripeSandboxProduct.objects.filter(stripe_id=custom_id).exists():
        raise StripeError("Product already exists.", code="resource_already_exists", param="id")
    active = params.boolean("active")
    return StripeSandboxProduct.objects.create(
        stripe_id=custom_id or stripe_id("prod_", 14),
        name=params.string("name", required=True, max_length=250),
        description=params.string("description"),
        active=True if active is None else active,
        metadata=metadata_apply({}, params.metadata()),
    )


def product_update(*, product_id: str, params: Params) -> StripeSandboxProduct:
    """`POST /v1/products/{id}`: name, description ("" clears it), metadata (merged), active."""
    params.only("name", "description", "metadata", "active")
    found = product_get(product_id=product_id)
    if params.has("name"):
        found.name = params.string("name", required=True, max_length=250)
    if params.has("description"):
        found.description = params.string("description")
    active = params.boolean("active")
    if active is not None:
        found.active = active
    found.metadata = metadata_apply(found.metadata, params.metadata())
    found.save()
    return found


def products_list(*, params: Params) -> tuple[list, bool]:
    """`GET /v1/products`, newest first, optionally only active or inactive ones."""
    params.only("active", "limit", "starting_after", "ending_before")
    rows = StripeSandboxProduct.objects.all()
    active = params.boolean("active")
    if active is not None:
        rows = rows.filter(active=active)
    return list_page(params=params, queryset=rows, kind="product")


# --- Prices ------------------------------------------------------------------------------------


def price_get(*, price_id: str) -> StripeSandboxPrice:
    """The price with this id, or Stripe's 404."""
    found = StripeSandboxPrice.objects.select_related("product").filter(stripe_id=price_id).first()
    if found is None:
        raise resource_missing("price", price_id, "price")
    return found


def _claim_lookup_key(*, key: str | None, transfer: bool, owner: StripeSandboxPrice | None):
    """Make `key` free for `owner`: a key belongs to one price; `transfer_lookup_key` moves it."""
    if not key:
        return
    holders = StripeSandboxPrice.objects.filter(lookup_key=key)
    if owner is not None:
        holders = holders.exclude(pk=owner.pk)
    holder = holders.first()
    if holder is None:
        return
    if not transfer:
        raise param_invalid(
            "lookup_key",
            f"A price (`{holder.stripe_id}`) already uses that lookup key.",
        )
    holder.lookup_key = None
    holder.save(update_fields=["lookup_key"])


def price_create(*, params: Params) -> StripeSandboxPrice:
    """`POST /v1/prices`: a one-time price; its amount, currency and product are fixed for good."""
    params.only(*PRICE_CREATE_PARAMS)
    if params.has("recurring"):
        raise param_invalid("recurring", "The Stripe sandbox sells one-time prices only.")
    product_id = params.string("product", required=True)
    product = StripeSandboxProduct.objects.filter(stripe_id=product_id).first()
    if product is None:
        raise resource_missing("product", product_id, "product", http_status=400)
    currency = params.currency()
    unit_amount = params.integer("unit_amount", required=True, maximum=AMOUNT_MAX)
    lookup_key = params.string("lookup_key", max_length=200)
    _claim_lookup_key(
        key=lookup_key, transfer=bool(params.boolean("transfer_lookup_key")), owner=None
    )
    active = params.boolean("active")
    return StripeSandboxPrice.objects.create(
        stripe_id=stripe_id("price_1"),
        product=product,
        currency=currency,
        unit_amount=unit_amount,
        active=True if active is None else active,
        metadata=metadata_apply({}, params.metadata()),
        lookup_key=lookup_key,
        nickname=params.string("nickname", max_length=250),
    )


def price_update(*, price_id: str, params: Params) -> StripeSandboxPrice:
    """`POST /v1/prices/{id}`: only active, metadata, nickname and lookup_key change; anything
    else (unit_amount, currency, product) is an unknown parameter, as Stripe answers."""
    params.only("active", "metadata", "nickname", "lookup_key", "transfer_lookup_key")
    found = price_get(price_id=price_id)
    active = params.boolean("active")
    if active is not None:
        found.active = active
    if params.has("nickname"):
        found.nickname = params.string("nickname", max_length=250)
    if params.has("lookup_key"):
        key = params.string("lookup_key", max_length=200)
        _claim_lookup_key(
            key=key, transfer=bool(params.boolean("transfer_lookup_key")), owner=found
        )
        found.lookup_key = key
    found.metadata = metadata_apply(found.metadata, params.metadata())
    found.save()
    return found


def prices_list(*, params: Params) -> tuple[list, bool]:
    """`GET /v1/prices?product=…&active=…&currency=…&lookup_keys[]=…&type=…`, newest first."""
    params.only(
        "product",
        "active",
        "currency",
        "lookup_keys",
        "type",
        "limit",
        "starting_after",
        "ending_before",
    )
    rows = StripeSandboxPrice.objects.select_related("product")
    product_id = params.string("product")
    if product_id:
        rows = rows.filter(product__stripe_id=product_id)
    active = params.boolean("active")
    if active is not None:
        rows = rows.filter(active=active)
    currency = params.currency(required=False)
    if currency:
        rows = rows.filter(currency=currency)
    lookup_keys = params.strings("lookup_keys", max_items=10)
    if lookup_keys is not None:
        rows = rows.filter(lookup_key__in=lookup_keys)
    if params.choice("type", ("one_time", "recurring")) == "recurring":
        rows = rows.none()  # the sandbox has one-time prices only
    return list_page(params=params, queryset=rows, kind="price")
