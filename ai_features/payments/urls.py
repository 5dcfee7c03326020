from django.urls import path

from ai_features.payments import views

urlpatterns = [
    path("credits/packages/", views.packages, name="credits-packages"),
    path("credits/purchase/", views.purchase, name="credits-purchase"),
    path("credits/verify/", views.verify, name="credits-verify"),
    path("credits/purchases/", views.purchases, name="credits-purchases"),
    path("admin/credits/purchases/", views.admin_purchases, name="admin-credits-purchases"),
    path("webhooks/paystack/", views.paystack_webhook, name="paystack-webhook"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe-webhook"),
]
