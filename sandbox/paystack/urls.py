from django.urls import path

from sandbox import dashboard
from sandbox.paystack import views

app_name = "sandbox_paystack"

# No trailing slashes: the Paystack client calls these paths exactly as Paystack spells them.
urlpatterns = [
    path("transaction/initialize", views.initialize, name="initialize"),
    path("transaction/verify/<str:reference>", views.verify, name="verify"),
    path("refund", views.refund, name="refund"),
    path("dispute/<int:dispute_id>", views.dispute, name="dispute"),
    path("dispute/<int:dispute_id>/resolve", views.dispute_resolve, name="dispute-resolve"),
    # Sandbox-only: at Paystack a dispute is opened by the customer's bank.
    path("test_helpers/disputes", views.dispute_open, name="dispute-open"),
    path("checkout/<str:access_code>", views.checkout, name="checkout"),
    # Sandbox-only pages: refund and dispute payments by hand, as in a gateway's dashboard.
    path("dashboard", dashboard.dashboard, name="dashboard"),
]
