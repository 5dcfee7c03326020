from django.urls import path, re_path

from sandbox.stripe import views

app_name = "sandbox_stripe"

# Mounted at /sandbox/stripe/: the SDK, given base_addresses={"api": ".../sandbox/stripe"}
# (no trailing slash), requests `{base}/v1/...` exactly as Stripe spells its paths.
urlpatterns = [
    path("v1/products", views.products, name="products"),
    path("v1/products/<str:product_id>", views.product, name="product"),
    path("v1/prices", views.prices, name="prices"),
    path("v1/prices/<str:price_id>", views.price, name="price"),
    path("v1/checkout/sessions", views.sessions, name="sessions"),
    path("v1/checkout/sessions/<str:session_id>", views.session, name="session"),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        views.session_expire,
        name="session-expire",
    ),
    path(
        "v1/checkout/sessions/<str:session_id>/line_items",
        views.session_line_items,
        name="session-line-items",
    ),
    path("v1/refunds", views.refund_create, name="refunds"),
    path("v1/refunds/<str:refund_id>", views.refund, name="refund"),
    path("v1/charges/<str:charge_id>", views.charge, name="charge"),
    path("v1/disputes/<str:dispute_id>", views.dispute, name="dispute"),
    path("v1/disputes/<str:dispute_id>/close", views.dispute_accept, name="dispute-accept"),
    # Stand-in test helpers: at Stripe the cardholder's bank opens and decides a dispute.
    path("v1/test_helpers/disputes", views.dispute_open, name="dispute-open"),
    path(
        "v1/test_helpers/disputes/<str:dispute_id>/close",
        views.dispute_helper_close,
        name="dispute-close",
    ),
    # `/*`: a base address ending in "/" makes the SDK ask for `//v1/…`; answer it in JSON too.
    re_path(r"^[/]*v1/(?P<rest>.*)$", views.unrecognized, name="unrecognized"),
    path("checkout/<str:session_id>", views.checkout, name="checkout"),
]
