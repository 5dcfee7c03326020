from django.urls import include, path

from ai_features import views

urlpatterns = [
    path("", include("ai_features.payments.urls")),
    path("credits/balance/", views.balance, name="credits-balance"),
    path("credits/ledger/", views.ledger, name="credits-ledger"),
    path("credits/transactions/", views.transactions, name="credits-transactions"),
    path("credits/usage/summary/", views.usage_summary_view, name="credits-usage-summary"),
    path("credits/usage/daily/", views.usage_daily_view, name="credits-usage-daily"),
    path("credits/alerts/", views.alerts, name="credits-alerts"),
    path(
        "credits/alerts/<int:alert_id>/acknowledge/",
        views.alert_acknowledge,
        name="credits-alert-acknowledge",
    ),
    path("", include("ai_features.features.urls")),
]
