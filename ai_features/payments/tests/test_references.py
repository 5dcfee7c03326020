import re
import time

import pytest

from ai_features.credits.grants import credits_grant
from ai_features.models import AICreditPurchase, payment_reference_new
from ai_features.payments.fulfilment import Outcome, purchase_verify
from ai_features.payments.purchases import purchase_create
from testing.factories import PurchaseFactory


def test_references_have_the_seeds_shape_with_lowercase_hex():
    before = int(time.time() * 1000)
    references = {payment_reference_new() for _ in range(200)}
    after = int(time.time() * 1000)

    assert len(references) == 200
    for ref in references:
        match = re.fullmatch(r"AI-CREDIT-(\d{13})-([0-9a-f]{8})", ref)
        assert match, ref
        assert before <= int(match[1]) <= after
    # Some draw among 200 has a letter in its 8 hex digits; all of them are lowercase.
    assert any(re.search(r"[a-f]", ref.rsplit("-", 1)[1]) for ref in references)


@pytest.mark.django_db
def test_an_uppercase_reference_issued_before_still_verifies(business, paystack):
    purchase = PurchaseFactory(business=business)
    old_style = purchase.payment_reference.upper()
    AICreditPurchase.objects.filter(pk=purchase.pk).update(payment_reference=old_style)
    paystack.verify(old_style)

    settled = purchase_verify(business=business, reference=old_style)

    assert settled.outcome == Outcome.CREDITED
    assert settled.purchase.payment_reference == old_style


@pytest.mark.django_db
def test_a_reference_collision_draws_a_new_reference(business, monkeypatch):
    existing = credits_grant(business=business, credits=1, package="test")
    draws = iter([existing.payment_reference, "AI-CREDIT-2-0000BEEF"])
    monkeypatch.setattr("ai_features.models.payments.payment_reference_new", lambda: next(draws))

    purchase = purchase_create(
        business=business,
        package="test",
        amount_paid=0,
        total_amount=0,
        credits_purchased=1,
        payment_method="admin_grant",
    )

    assert purchase.payment_reference == "AI-CREDIT-2-0000BEEF"
    assert AICreditPurchase.objects.count() == 2
