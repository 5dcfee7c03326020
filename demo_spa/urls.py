from django.urls import path

from demo_spa import views

app_name = "demo_spa"

urlpatterns = [
    path("", views.index, name="index"),
    path("payment/callback", views.index, name="payment-callback"),
]
