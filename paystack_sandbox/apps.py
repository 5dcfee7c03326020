from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LIVE_PREFIXES = ("sk_live_", "rk_live_")  # secret and restricted keys, Paystack's and Stripe's


def is_live_key(key: str | None) -> bool:
    """Whether a key is a live one, whatever its case (`SK_LIVE_…` is as live as `sk_live_…`)."""
    return (key or "").strip().lower().startswith(LIVE_PREFIXES)


def refuse_live_key() -> None:
    """The sandbox answers as if it were a gateway; it must never hold a live key of any."""
    if not getattr(settings, "PAYSTACK_SANDBOX", False):
        return
    for name in ("PAYSTACK_SECRET_KEY", "STRIPE_SECRET_KEY"):
        key = getattr(settings, name, "")
        if is_live_key(key):
            raise ImproperlyConfigured(
                f"the Paystack sandbox refuses to run with a live key ({name})"
            )


class PaystackSandboxConfig(AppConfig):
    name = "paystack_sandbox"
    verbose_name = "Paystack sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        refuse_live_key()
