from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_live_key() -> None:
    """The sandbox answers as if it were Paystack; it must never hold a live secret key."""
    if not getattr(settings, "PAYSTACK_SANDBOX", False):
        return
    key = (getattr(settings, "PAYSTACK_SECRET_KEY", "") or "").strip()
    if key.startswith("sk_live_"):
        raise ImproperlyConfigured("the Paystack sandbox refuses to run with a live key")


class PaystackSandboxConfig(AppConfig):
    name = "paystack_sandbox"
    verbose_name = "Paystack sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        refuse_live_key()
