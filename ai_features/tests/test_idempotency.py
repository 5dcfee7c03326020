"""One idempotency mechanism for purchases and AI feature calls (ai_features/idempotency.py,
issue 20, item 5): replay, 409s, 24 hours for both scopes, takeover, scope isolation, the
unique constraint under a real race, and the purge."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from ai_features import idempotency
from ai_features.idempotency import (
    Scope,
    idempotency_answer_store,
    idempotency_claim,
    idempotency_forget,
    idempotency_keys_purge,
)
from ai_features.models import KEY_LIFETIME, AICreditPurchase, AITransaction, IdempotencyKey
from pos.errors import Conflict
from testing.factories import PurchaseFactory
from testing.races import outcomes_in_threads

pytestmark = pytest.mark.django_db

FINGERPRINT = idempotency.request_fingerprint(package="value")
OTHER_BODY = idempotency.request_fingerprint(package="premium")
PURCHASE = "/ai/api/credits/purchase/"


def a_purchase(business, url="https://checkout.paystack.com/abc") -> AICreditPurchase:
    return PurchaseFactory(business=business, authorization_url=url)


def claim(scope, user, business, key="key-1", fingerprint=FINGERPRINT):
    feature = "product_description" if scope == Scope.FEATURE else ""
    return idempotency_claim(
        scope=scope,
        user=user,
        business=business,
        key=key,
        fingerprint=fingerprint,
        feature=feature,
    )


def answered(scope, user, business, key="key-1", fingerprint=FINGERPRINT) -> IdempotencyKey:
    """A key whose first request finished: a purchase made, or a feature answer stored."""
    made = claim(scope, user, business, key, fingerprint)
    if scope == Scope.PURCHASE:
        idempotency_answer_store(claim=made, purchase=a_purchase(business))
    else:
        usage = AITransaction.objects.create(business=business, feature="product_description")
        idempotency_answer_store(claim=made, answer={"result": "the answer"}, usage_id=usage.pk)
    made.refresh_from_db()
    return made


def aged(row: IdempotencyKey, **ago) -> None:
    """Move a key's creation and expiry back in time by `ago`."""
    IdempotencyKey.objects.filter(pk=row.pk).update(
        created_at=row.created_at - timedelta(**ago),
        expires_at=row.expires_at - timedelta(**ago),
    )


SCOPES = [Scope.PURCHASE, Scope.FEATURE]


# --- replay and 409s ------------------------------------------------------------------------


def test_a_repeated_purchase_key_replays_the_same_purchase(user, business):
    first = answered(Scope.PURCHASE, user, business)

    again = claim(Scope.PURCHASE, user, business)

    assert again.pk == first.pk
    assert again.purchase == first.purchase
    assert IdempotencyKey.objects.count() == 1


def test_a_repeated_feature_key_replays_the_stored_answer(user, business):
    first = answered(Scope.FEATURE, user, business)

    again = claim(Scope.FEATURE, user, business)

    assert again.pk == first.pk
    assert again.answer == {"result": "the answer"}
    assert again.usage_id == first.usage_id


@pytest.mark.parametrize(
    "scope, message",
    [
        (Scope.PURCHASE, "This Idempotency-Key was already used with a different request body."),
        (Scope.FEATURE, "This Idempotency-Key was already used with a different request."),
    ],
)
def test_the_same_key_with_another_body_is_409_in_each_scopes_words(user, business, scope, message):
    answered(scope, user, business)

    with pytest.raises(Conflict) as refused:
        claim(scope, user, business, fingerprint=OTHER_BODY)

    assert refused.value.status_code == 409
    assert refused.value.code == "idempotency_key_reused"
    assert str(refused.value.detail) == message


@pytest.mark.parametrize("scope", SCOPES)
def test_a_key_whose_first_request_is_still_running_is_409(user, business, scope):
    claim(scope, user, business)

    with pytest.raises(Conflict) as busy:
        claim(scope, user, business)

    assert busy.value.code == "idempotency_request_in_progress"
    assert str(busy.value.detail) == (
        "A request with this Idempotency-Key is still in progress; retry shortly."
    )


def test_a_purchase_without_a_checkout_url_yet_is_in_progress(user, business):
    made = claim(Scope.PURCHASE, user, business)
    idempotency_answer_store(claim=made, purchase=a_purchase(business, url=""))

    with pytest.raises(Conflict) as busy:
        claim(Scope.PURCHASE, user, business)

    assert busy.value.code == "idempotency_request_in_progress"


@pytest.mark.parametrize("scope", SCOPES)
def test_a_failed_attempt_forgets_its_claim_so_the_key_may_be_retried(user, business, scope):
    idempotency_forget(claim=claim(scope, user, business))

    retried = claim(scope, user, business, fingerprint=OTHER_BODY)

    assert retried.fingerprint == OTHER_BODY


@pytest.mark.parametrize("scope", SCOPES)
def test_forgetting_never_drops_an_answered_key(user, business, scope):
    first = answered(scope, user, business)

    idempotency_forget(claim=first)

    assert IdempotencyKey.objects.filter(pk=first.pk).exists()


# --- 24 hours, for both scopes ----------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_a_key_lasts_24_hours_from_its_claim(user, business, scope):
    made = claim(scope, user, business)

    assert made.expires_at - made.created_at == KEY_LIFETIME == timedelta(hours=24)


@pytest.mark.parametrize("scope", SCOPES)
def test_within_24_hours_a_key_still_replays(user, business, scope):
    first = answered(scope, user, business)
    aged(first, hours=23, minutes=59)

    assert claim(scope, user, business).pk == first.pk


@pytest.mark.parametrize("scope", SCOPES)
def test_after_24_hours_a_key_is_free_again_even_for_another_body(user, business, scope):
    first = answered(scope, user, business)
    aged(first, hours=24, seconds=1)

    fresh = claim(scope, user, business, fingerprint=OTHER_BODY)

    assert fresh.pk != first.pk
    assert fresh.purchase_id is None and fresh.answer is None
    assert IdempotencyKey.objects.get().pk == fresh.pk


def test_a_purchase_key_expires_after_24_hours_through_the_endpoint(api, paystack):
    """Regression: purchase keys never expired, so a key reused a week later got the old
    purchase back instead of a new checkout."""
    paystack.initialize_ok()
    first = api.post(PURCHASE, {"package": "value"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    again = api.post(PURCHASE, {"package": "value"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    aged(IdempotencyKey.objects.get(), hours=25)

    later = api.post(PURCHASE, {"package": "value"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert later.status_code == 201
    assert later.json()["reference"] != first.json()["reference"]
    assert AICreditPurchase.objects.count() == 2
    assert len(paystack.calls_to("/transaction/initialize")) == 2


# --- takeover of a claim whose request died ------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
def test_a_claim_with_no_answer_is_taken_over_after_five_minutes(user, business, scope):
    dead = claim(scope, user, business)
    aged(dead, minutes=5, seconds=1)

    taken = claim(scope, user, business)

    assert taken.pk != dead.pk
    assert taken.purchase_id is None and taken.answer is None
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("scope", SCOPES)
def test_a_claim_with_no_answer_is_not_taken_over_before_five_minutes(user, business, scope):
    running = claim(scope, user, business)
    aged(running, minutes=4, seconds=50)

    with pytest.raises(Conflict):
        claim(scope, user, business)

    assert IdempotencyKey.objects.get().pk == running.pk


@pytest.mark.parametrize("scope", SCOPES)
def test_an_answered_key_is_never_taken_over_within_its_24_hours(user, business, scope):
    first = answered(scope, user, business)
    aged(first, hours=2)

    assert claim(scope, user, business).pk == first.pk


# --- scopes and users ---------------------------------------------------------------------------


def test_the_same_key_in_both_scopes_does_not_collide(user, business):
    bought = answered(Scope.PURCHASE, user, business)

    feature_claim = claim(Scope.FEATURE, user, business, fingerprint=OTHER_BODY)

    assert feature_claim.pk != bought.pk
    assert feature_claim.answer is None and feature_claim.purchase_id is None
    assert claim(Scope.PURCHASE, user, business).purchase_id == bought.purchase_id
    assert set(IdempotencyKey.objects.values_list("scope", "key")) == {
        ("purchase", "key-1"),
        ("feature", "key-1"),
    }


def test_a_key_is_one_users(user, business, django_user_model):
    mine = answered(Scope.PURCHASE, user, business)
    someone = django_user_model.objects.create_user(username="someone", password="x" * 16)

    theirs = claim(Scope.PURCHASE, someone, business, fingerprint=OTHER_BODY)

    assert theirs.pk != mine.pk and theirs.purchase_id is None


# --- what the database itself refuses ------------------------------------------------------


BROKEN = {
    "unknown-scope": lambda shop, now: {"scope": "refund"},
    "purchase-with-answer": lambda shop, now: {"scope": "purchase", "answer": {"result": 1}},
    "purchase-with-usage": lambda shop, now: {
        "scope": "purchase",
        "usage": AITransaction.objects.create(business=shop, feature="product_description"),
    },
    "purchase-with-feature": lambda shop, now: {"scope": "purchase", "feature": "x"},
    "feature-without-feature": lambda shop, now: {"scope": "feature"},
    "feature-with-purchase": lambda shop, now: {
        "scope": "feature",
        "feature": "product_description",
        "purchase": a_purchase(shop),
    },
    "expiring-at-creation": lambda shop, now: {
        "scope": "purchase",
        "created_at": now,
        "expires_at": now,
    },
}


@pytest.mark.parametrize("broken", BROKEN)
def test_the_checks_tie_each_scope_to_its_fields(user, business, broken):
    fields = BROKEN[broken](business, timezone.now())

    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(
            user=user, business=business, key="k", fingerprint="f", **fields
        )


def test_the_same_scope_user_and_key_is_refused_by_the_database(user, business):
    IdempotencyKey.objects.create(scope="purchase", user=user, business=business, key="k")

    with pytest.raises(IntegrityError), transaction.atomic():
        IdempotencyKey.objects.create(scope="purchase", user=user, business=business, key="k")


# --- purge -----------------------------------------------------------------------------------


def test_the_purge_deletes_expired_keys_and_dead_claims_of_both_scopes(user, business):
    now = timezone.now()
    for scope in SCOPES:
        aged(answered(scope, user, business, key="old"), hours=24)
        aged(claim(scope, user, business, key="dead"), minutes=6)
        answered(scope, user, business, key="fresh")
        claim(scope, user, business, key="running")

    assert idempotency_keys_purge(now=now + timedelta(seconds=1)) == {
        "purchase": 2,
        "feature": 2,
    }
    assert set(IdempotencyKey.objects.values_list("scope", "key")) == {
        (scope, key) for scope in SCOPES for key in ("fresh", "running")
    }
    assert idempotency_keys_purge(now=now + timedelta(seconds=1)) == {"purchase": 0, "feature": 0}


def test_expire_ai_credits_reports_both_scopes_purged(user, business):
    aged(answered(Scope.PURCHASE, user, business, key="a"), hours=25)
    aged(answered(Scope.PURCHASE, user, business, key="b"), hours=25)
    aged(answered(Scope.FEATURE, user, business), hours=25)
    out = StringIO()

    call_command("expire_ai_credits", stdout=out)

    assert "Stored AI answers deleted: 1\n" in out.getvalue()
    assert "Purchase idempotency keys deleted: 2\n" in out.getvalue()
    assert not IdempotencyKey.objects.exists()


# --- a real race, on PostgreSQL -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("scope", SCOPES)
def test_ten_racing_claims_of_one_key_give_exactly_one_claim(user, business, scope):
    outcomes = outcomes_in_threads(10, lambda index: claim(scope, user, business))

    claims = [o for o in outcomes if isinstance(o, IdempotencyKey)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(claims) == 1, outcomes
    assert len(refused) == 9 and {c.code for c in refused} == {"idempotency_request_in_progress"}
    assert IdempotencyKey.objects.get().pk == claims[0].pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_unique_constraint_holds_under_racing_inserts(user, business):
    def insert(index):
        return IdempotencyKey.objects.create(
            scope="feature",
            user=user,
            business=business,
            key="same",
            fingerprint=f"{index}",
            feature="product_description",
        )

    outcomes = outcomes_in_threads(10, insert)

    assert sum(isinstance(o, IdempotencyKey) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == 9
    assert IdempotencyKey.objects.count() == 1
