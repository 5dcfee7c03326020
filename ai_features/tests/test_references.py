import re

from ai_features.services.references import payment_reference_new


def test_references_have_the_designed_shape_and_paystack_safe_characters():
    references = {payment_reference_new() for _ in range(200)}

    assert len(references) == 200
    assert all(re.fullmatch(r"AI-CREDIT-\d{13}-[0-9A-F]{8}", ref) for ref in references)
