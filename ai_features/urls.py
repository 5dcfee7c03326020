from django.urls import path

from ai_features import views

urlpatterns = [
    path("credits/packages/", views.packages, name="credits-packages"),
    path("credits/balance/", views.balance, name="credits-balance"),
    path("credits/ledger/", views.ledger, name="credits-ledger"),
]
