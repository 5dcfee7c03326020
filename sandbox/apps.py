from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LIVE_PREFIXES = ("sk_live_", "rk_live_")  # secret and restricted keys, Paystack's and Stripe's


def sandbox_enabled() -> bool:
    """Whether the stand-ins answer (settings.SANDBOX); off, every sandbox view is a 404."""
    return bool(getattr(settings, "SANDBOX", False))


def is_live_key(key: str | None) -> bool:
    """Whether a key is a live one, whatever its case (`SK_LIVE_…` is as live as `sk_live_…`)."""
    return (key or "").strip().lower().startswith(LIVE_PREFIXES)


def refuse_live_key() -> None:
    """The sandbox answers as if it were a gateway; it must never hold a live key of any."""
    if not sandbox_enabled():
        return
    for name in ("PAYSTACK_SECRET_KEY", "STRIPE_SECRET_KEY"):
        key = getattr(settings, name, "")
        if is_live_key(key):
            raise ImproperlyConfigured(f"the sandbox refuses to run with a live key ({name})")


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox (Paystack, Stripe and OpenAI stand-ins)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        refuse_live_key()
