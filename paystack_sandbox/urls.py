from django.urls import path

from paystack_sandbox import views

app_name = "paystack_sandbox"

# No trailing slashes: the Paystack client calls these paths exactly as Paystack spells them.
urlpatterns = [
    path("transaction/initialize", views.initialize, name="initialize"),
    path("transaction/verify/<str:reference>", views.verify, name="verify"),
    path("refund", views.refund, name="refund"),
    path("checkout/<str:access_code>", views.checkout, name="checkout"),
]
