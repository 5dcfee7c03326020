"""The ledger invariants: for every business, the balance equals the sum of its ledger amounts;
and every refund or dispute claim adds up and is backed by its ledger entries."""

from decimal import Decimal

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum

from accounts.models import Business
from ai_features.credits.money import ZERO
from ai_features.models import AITransaction, BusinessAICredits, CreditClawback, CreditLedgerEntry

Kind = CreditLedgerEntry.Kind


def ledger_latest_mismatches() -> list[tuple[Business, Decimal, Decimal | None]]:
    """(business, balance, balance after its latest ledger entry) for every active balance
    where the two differ: the nightly check, one index probe per balance
    (`ledger_business_recent`) instead of a sum over every entry."""
    latest = (
        CreditLedgerEntry.objects.filter(business=OuterRef("business"))
        .order_by("-id")
        .values("balance_after")[:1]
    )
    rows = (
        BusinessAICredits.objects.filter(is_active=True)
        .annotate(latest=Subquery(latest))
        .filter(
            Q(latest__isnull=True, balance__gt=0)  # a balance no entry explains
            | Q(latest__isnull=False) & ~Q(latest=F("balance"))
        )
        .select_related("business")
        .order_by("business_id")
    )
    return [(row.business, row.balance, row.latest) for row in rows]


def ledger_mismatches() -> list[tuple[Business, Decimal, Decimal]]:
    """(business, balance, ledger sum) for every business where the two differ: the full
    check, a sum over every entry (weekly)."""
    balances = dict(
        BusinessAICredits.objects.filter(is_active=True).values_list("business_id", "balance")
    )
    sums = dict(
        CreditLedgerEntry.objects.values("business_id")
        .annotate(total=Sum("amount"))
        .values_list("business_id", "total")
    )
    zero = ZERO
    wrong = {
        business_id
        for business_id in balances.keys() | sums.keys()
        if balances.get(business_id, zero) != sums.get(business_id, zero)
    }
    businesses = Business.objects.in_bulk(wrong)
    return [
        (businesses[business_id], balances.get(business_id, zero), sums.get(business_id, zero))
        for business_id in sorted(wrong)
    ]


def ledger_entries(*, business: Business) -> QuerySet[CreditLedgerEntry]:
    """The business's balance changes, newest first."""
    return (
        CreditLedgerEntry.objects.filter(business=business)
        .select_related("purchase")
        .order_by("-id")  # by id alone: created_at can be stamped before the lock
    )


def _sums(queryset, key: str, field: str) -> dict:
    return dict(queryset.values(key).annotate(total=Sum(field)).values_list(key, "total"))


def clawback_mismatches() -> list[tuple[CreditClawback, str]]:
    """Each refund or dispute claim that breaks a rule (design section 7, rule 5), and why.

    - taken + still reserved + shortfall = share;
    - what it took is what its ledger entries took, and what it gave back what they gave;
    - a shortfall found at the claim was spent or forfeited before it, and any shortfall since
      is at most what was on hold then (holds that settled afterwards);
    - every balance row's reserve is its open claims' reserves, and what it holds on hold is
      what its pending holds hold."""
    entries = CreditLedgerEntry.objects.filter(clawback__isnull=False)
    taken = _sums(entries.filter(kind__in=[Kind.REFUND, Kind.DISPUTE]), "clawback_id", "amount")
    returned = _sums(entries.filter(kind=Kind.DISPUTE_RETURN), "clawback_id", "amount")
    wrong = []
    for claim in CreditClawback.objects.select_related("purchase").order_by("id"):
        if claim.taken + claim.reserved + claim.shortfall != claim.share:
            wrong.append((claim, "taken + reserved + shortfall is not its share"))
        if -(taken.get(claim.pk) or ZERO) != claim.taken:
            wrong.append((claim, f"its ledger took {-(taken.get(claim.pk) or ZERO)}"))
        if (returned.get(claim.pk) or ZERO) != claim.returned:
            wrong.append((claim, f"its ledger gave back {returned.get(claim.pk) or ZERO}"))
        if claim.shortfall_at_claim > claim.consumed_before:
            wrong.append((claim, "short of more than was spent before it"))
        if claim.shortfall - claim.shortfall_at_claim > claim.held_at_claim:
            wrong.append((claim, "short since of more than was on hold at it"))
    reserved = _sums(CreditClawback.objects.filter(reserved__gt=0), "balance_row_id", "reserved")
    pending = AITransaction.objects.filter(status=AITransaction.UsageStatus.PENDING)
    held = _sums(pending, "balance_row_id", "credits_held")
    rows = BusinessAICredits.objects.filter(
        Q(held__gt=0) | Q(clawback_reserved__gt=0) | Q(pk__in=[*reserved, *held])
    ).order_by("id")
    for row in rows:
        if row.clawback_reserved != (reserved.get(row.pk) or ZERO):
            wrong.append((row, f"reserve {row.clawback_reserved} is not its claims' reserves"))
        if row.held != (held.get(row.pk) or ZERO):
            wrong.append((row, f"on hold {row.held} is not its pending holds"))
    return wrong
