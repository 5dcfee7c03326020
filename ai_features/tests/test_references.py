import re

import pytest

from ai_features.models import AICreditPurchase
from ai_features.services.grants import credits_grant
from ai_features.services.references import payment_reference_new, purchase_create


def test_references_have_the_designed_shape_and_paystack_safe_characters():
    references = {payment_reference_new() for _ in range(200)}

    assert len(references) == 200
    assert all(re.fullmatch(r"AI-CREDIT-\d{13}-[0-9A-F]{8}", ref) for ref in references)


@pytest.mark.django_db
def test_a_reference_collision_draws_a_new_reference(business, monkeypatch):
    existing = credits_grant(business=business, credits=1, package="test")
    draws = iter([existing.payment_reference, "AI-CREDIT-2-0000BEEF"])
    monkeypatch.setattr(
        "ai_features.services.references.payment_reference_new", lambda: next(draws)
    )

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
