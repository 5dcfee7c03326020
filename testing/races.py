"""Real races on PostgreSQL: threads released at once, each on its own connection."""

import threading
from collections.abc import Callable
from decimal import Decimal

from django.db import connection
from django.test import Client

from accounts.models import RateLimitWindow
from ai_features.models import AICreditPurchase, CreditLedgerEntry
from testing.clients import token_client
from testing.credits import ledger_sum, stored_balance


def outcomes_in_threads(count: int, target) -> list:
    """Run target(index) in `count` threads released at once, each on its own connection
    (closed after); what each returned or raised, by index."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def worker(index):
        try:
            barrier.wait()
            outcomes[index] = target(index)
        except Exception as exc:  # the caller reads it
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return outcomes


def results_in_threads(count: int, target) -> list:
    """As outcomes_in_threads, for targets that must all succeed: what each returned, by index
    (a target that raised fails the caller)."""
    outcomes = outcomes_in_threads(count, target)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    return outcomes


def run_in_threads(count: int, target) -> None:
    """As results_in_threads, when what the targets return does not matter."""
    results_in_threads(count, target)


def verify_and_webhooks_race(
    *,
    business,
    rounds: int,
    verifiers: int,
    webhooks: int,
    purchase_new: Callable,
    verify_query: Callable[[AICreditPurchase], dict],
    deliveries: Callable[[AICreditPurchase], list[Callable]],
    credits_per_purchase: Decimal = Decimal(100),
) -> None:
    """`rounds` times: a new purchase (`purchase_new(business)`, with its gateway's answer
    mocked), then `verifiers` verify calls and `webhooks` webhook deliveries at once (each
    delivery is `deliveries(purchase)[index % len]` called with a fresh client); every answer
    is 200, and the purchase is credited exactly once."""
    owner = business.owner
    for round_number in range(1, rounds + 1):
        # The verify rate limit counts per user; this race is not about it.
        RateLimitWindow.objects.all().delete()
        purchase = purchase_new(business)
        query = verify_query(purchase)
        deliver = deliveries(purchase)
        answers = []

        def race(index, query=query, deliver=deliver, answers=answers):
            if index < verifiers:
                response = token_client(owner).get("/ai/api/credits/verify/", query)
            else:
                response = deliver[index % len(deliver)](Client())
            answers.append(response.status_code)

        run_in_threads(verifiers + webhooks, race)

        assert answers == [200] * (verifiers + webhooks)
        assert CreditLedgerEntry.objects.filter(purchase=purchase).count() == 1
        assert AICreditPurchase.objects.get(pk=purchase.pk).payment_status == "completed"
        expected = credits_per_purchase * round_number
        assert stored_balance(business) == expected == ledger_sum(business)
