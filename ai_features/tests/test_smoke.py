def test_x(db):
    from ai_features.models import CreditPackage
    assert CreditPackage.objects.count() == 3
