"""The Stripe catalogue (design section 13): each package sold through Stripe is a Product with
one active one-time Price, kept in step with the packages table by `setup_stripe_credit_products`.

Stripe prices are immutable, so a new amount or currency makes a new Price, which takes the
package's lookup key over, and the old one is archived. Ids are saved package by package, as soon
as Stripe has made each object: a run that fails part way keeps what it did, and the next run
finds the rest (by the stored ids, else by the lookup key) instead of making duplicates."""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from ai_features.credits.money import money_parse, to_minor_units
from ai_features.models import CreditPackage
from ai_features.payments.gateways.stripe import StripeError, StripeNotFound, StripeService

LOOKUP_KEY_PREFIX = "ai_credits_"
# Stripe's largest amount for one charge in a two-decimal currency: 99,999,999 cents.
PRICE_MAX = Decimal("999999.99")
# The amount is read by money_parse: ASCII digits, at most 2 decimals.
PRICE_SETTING = re.compile(r"(?P<code>[A-Za-z0-9_-]+)=(?P<amount>.*)", re.ASCII)
# The most prices one product can have active and still be listed in one page.
LIST_LIMIT = 100


class CatalogueError(Exception):
    """Input the sync refuses, before anything is changed."""


class CatalogueSyncFailed(Exception):
    """Stripe failed while syncing `package`; `done` are the packages synced (and saved) before."""

    def __init__(self, *, package: str, error: StripeError, done: list["PackageSync"]):
        self.package, self.error, self.done = package, error, done
        super().__init__(f"Stripe failed while syncing package '{package}': {error.detail}")


@dataclass
class PackageSync:
    """One package's plan (in a dry run) or what was done; no actions means unchanged."""

    code: str
    amount: Decimal
    currency: str
    product_id: str = ""
    price_id: str = ""
    actions: list[str] = field(default_factory=list)


def lookup_key(code: str) -> str:
    return f"{LOOKUP_KEY_PREFIX}{code}"


def credits_text(amount: Decimal) -> str:
    """Credits as Stripe metadata (strings only): 100.00 -> "100", 12.50 -> "12.50"."""
    return str(amount.quantize(Decimal(1))) if amount == amount.to_integral_value() else str(amount)


def price_settings_parse(*, texts: list[str]) -> dict[str, Decimal]:
    """`["starter=2.50", ...]` as {code: amount}; the first malformed one is a CatalogueError."""
    prices: dict[str, Decimal] = {}
    for text in texts:
        match = PRICE_SETTING.fullmatch(text.strip())
        try:
            amount = money_parse(match["amount"]) if match else None
        except ValueError:
            amount = None
        if amount is None:
            raise CatalogueError(
                f"--price {text!r}: write CODE=AMOUNT, a positive amount with at most 2 decimals "
                "(e.g. starter=2.50)."
            )
        code = match["code"]
        if code in prices:
            raise CatalogueError(f"--price gives package '{code}' twice.")
        if not 0 < amount <= PRICE_MAX:
            raise CatalogueError(f"--price {text!r}: the amount must be from 0.01 to {PRICE_MAX}.")
        prices[code] = amount
    return prices


def _prices_checked(prices: dict[str, Decimal]) -> None:
    active = set(CreditPackage.objects.filter(is_active=True).values_list("code", flat=True))
    unknown = sorted(set(prices) - active)
    if unknown:
        raise CatalogueError(
            f"No active package with code {', '.join(map(repr, unknown))} "
            f"(active: {', '.join(sorted(active)) or 'none'})."
        )


def stripe_prices_fill(*, prices: dict[str, Decimal]) -> list[str]:
    """Give the packages among `prices` that have no Stripe price that price; their codes."""
    unpriced = CreditPackage.objects.filter(code__in=prices, stripe_price__isnull=True)
    filled = []
    for package in unpriced.order_by("display_order", "id"):
        package.stripe_price = prices[package.code]
        package.save(update_fields=["stripe_price"])
        filled.append(package.code)
    return filled


def catalogue_sync(
    *, service: StripeService, prices: dict[str, Decimal] | None = None, dry_run: bool = False
) -> list[PackageSync]:
    """Sync every active package that has a Stripe price, after giving the packages in `prices`
    those prices (a dry run writes nothing, at Stripe or here).

    A new price is saved with the price id that charges it, never before: checkout sells the
    stored id, and verify refuses a payment whose amount is not the package's."""
    prices = prices or {}
    _prices_checked(prices)
    packages = list(CreditPackage.objects.filter(is_active=True).order_by("display_order", "id"))
    done: list[PackageSync] = []
    for package in packages:
        amount = prices.get(package.code, package.stripe_price)
        if amount is None:
            continue
        try:
            done.append(
                _package_sync(service=service, package=package, amount=amount, dry_run=dry_run)
            )
        except StripeError as exc:
            raise CatalogueSyncFailed(package=package.code, error=exc, done=done) from exc
    return done


def packages_off_stripe() -> list[str]:
    """Active packages with no Stripe price: not sold by card in STRIPE_CURRENCY."""
    return list(
        CreditPackage.objects.filter(is_active=True, stripe_price__isnull=True)
        .order_by("display_order", "id")
        .values_list("code", flat=True)
    )


def _found(fetch, **ids) -> dict | None:
    """The object, or None when Stripe has no such id (deleted, or another account's)."""
    try:
        return fetch(**ids)
    except StripeNotFound:
        return None


def _fields_save(package: CreditPackage, **fields) -> None:
    """Save those of `fields` that changed, and only them: an admin may be editing the rest."""
    changed = {name: value for name, value in fields.items() if getattr(package, name) != value}
    if changed:
        CreditPackage.objects.filter(pk=package.pk).update(**changed)
    for name, value in changed.items():
        setattr(package, name, value)


def _package_sync(
    *, service: StripeService, package: CreditPackage, amount: Decimal, dry_run: bool
) -> PackageSync:
    result = PackageSync(code=package.code, amount=amount, currency=settings.STRIPE_CURRENCY)
    price = _price_current(service=service, package=package)
    product_id = _product_sync(
        service=service, package=package, result=result, dry_run=dry_run, price=price
    )
    _price_sync(
        service=service,
        package=package,
        amount=amount,
        result=result,
        dry_run=dry_run,
        product_id=product_id,
        price=price,
    )
    return result


def _price_current(*, service: StripeService, package: CreditPackage) -> dict | None:
    """The package's Price now: by its stored id, else the one holding its lookup key."""
    if package.stripe_price_id:
        found = _found(service.price_retrieve, price_id=package.stripe_price_id)
        if found is not None:
            return found
    listed = service.price_list(params={"lookup_keys": [lookup_key(package.code)], "limit": 1})
    data = listed.get("data") or []
    return data[0] if data else None


def _metadata(package: CreditPackage) -> dict[str, str]:
    return {"package": package.code, "credits": credits_text(package.total_credits)}


def _product_sync(
    *, service, package: CreditPackage, result: PackageSync, dry_run: bool, price: dict | None
) -> str:
    """Create the product, or update what differs; its id ("" when a dry run would create it)."""
    product_id = package.stripe_product_id or (price or {}).get("product") or ""
    product = _found(service.product_retrieve, product_id=product_id) if product_id else None
    metadata = _metadata(package)
    if product is None:
        result.actions.append("create product")
        if dry_run:
            return ""
        params = {"name": package.name, "metadata": metadata}
        if package.description:  # Stripe refuses an empty description on create
            params["description"] = package.description
        product = service.product_create(params=params)
    else:
        changes = _product_changes(product, package, metadata)
        if changes:
            result.actions.append("update product")
            if not dry_run:
                product = service.product_update(product_id=product["id"], params=changes)
    result.product_id = product["id"]
    if not dry_run:
        _fields_save(package, stripe_product_id=product["id"])
    return product["id"]


def _product_changes(product: dict, package: CreditPackage, metadata: dict) -> dict:
    changes: dict = {}
    if product.get("name") != package.name:
        changes["name"] = package.name
    if (product.get("description") or "") != package.description:
        changes["description"] = package.description
    current = product.get("metadata") or {}
    if any(current.get(key) != value for key, value in metadata.items()):
        changes["metadata"] = metadata  # Stripe merges: other keys stay as they are
    if product.get("active") is False:
        changes["active"] = True
    return changes


def _price_sync(
    *,
    service,
    package: CreditPackage,
    amount: Decimal,
    result: PackageSync,
    dry_run: bool,
    product_id: str,
    price: dict | None,
) -> None:
    """Keep the current Price if it still says what the package says, else make a new one; then
    archive any other active price of the product, so checkout can only ever sell this one."""
    key = lookup_key(package.code)
    metadata = _metadata(package)
    fits = (
        price is not None
        and price.get("product") == product_id
        and price.get("unit_amount") == to_minor_units(amount)
        and price.get("currency") == settings.STRIPE_CURRENCY.lower()
        and price.get("active") is True
    )
    if fits:
        changes = _price_changes(price, key, metadata)
        if changes:
            result.actions.append("update price")
            if not dry_run:
                service.price_update(price_id=price["id"], params=changes)
        price_id = price["id"]
    else:
        result.actions.append("replace price" if price is not None else "create price")
        price_id = ""
        if not dry_run:
            created = service.price_create(
                params={
                    "product": product_id,
                    "currency": settings.STRIPE_CURRENCY.lower(),
                    "unit_amount": to_minor_units(amount),
                    "lookup_key": key,
                    # Moves the key off the old price in the same call: never two, never none.
                    "transfer_lookup_key": True,
                    "metadata": metadata,
                }
            )
            price_id = created["id"]
    result.price_id = price_id
    if not dry_run:  # the amount with the id that charges it, in one write
        _fields_save(package, stripe_price=amount, stripe_price_id=price_id)
    for stale in _prices_stale(service=service, product_id=product_id, keep=price_id, old=price):
        result.actions.append(f"archive {stale}")
        if not dry_run:
            service.price_update(price_id=stale, params={"active": False})


def _price_changes(price: dict, key: str, metadata: dict) -> dict:
    changes: dict = {}
    current = price.get("metadata") or {}
    if any(current.get(name) != value for name, value in metadata.items()):
        changes["metadata"] = metadata
    if price.get("lookup_key") != key:
        changes.update(lookup_key=key, transfer_lookup_key=True)
    return changes


def _prices_stale(*, service, product_id: str, keep: str, old: dict | None) -> list[str]:
    """Active prices to archive: the product's others, and the replaced one wherever it is."""
    stale = []
    if old is not None and old.get("active") and old["id"] != keep:
        stale.append(old["id"])
    if product_id:
        listed = service.price_list(
            params={"product": product_id, "active": True, "limit": LIST_LIMIT}
        )
        stale += [p["id"] for p in listed.get("data") or [] if p["id"] not in {keep, *stale}]
    return stale
