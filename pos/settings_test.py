"""Settings for the test suite: production settings plus a throwaway key and fast hashing, and
the sandbox apps installed (their tests need their tables and templates) while SANDBOX
stays off: each sandbox test switches it on itself."""

import importlib.machinery
import importlib.util
import os
from pathlib import Path


def _own_server_url() -> str:
    """The DATABASE_URL of the project's own server (scripts/devdb url): computed, not started,
    so `pytest` or a `--settings=pos.settings_test` command run outside make finds the server
    `make test` started (or says it cannot connect). Settings never start a server."""
    script = str(Path(__file__).resolve().parent.parent / "scripts" / "devdb")
    loader = importlib.machinery.SourceFileLoader("pos_devdb", script)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("pos_devdb", loader))
    loader.exec_module(module)
    return module.url()


os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
if not os.environ.get("DATABASE_URL", "").strip():
    os.environ["DATABASE_URL"] = _own_server_url()
# The test client speaks plain HTTP; the HTTPS settings are tested under production settings in
# a subprocess (pos/tests/test_settings.py).
os.environ["SECURE_SSL"] = "false"

from pos.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True  # tests run without collectstatic
INSTALLED_APPS = [*INSTALLED_APPS, *(a for a in SANDBOX_APPS if a not in INSTALLED_APPS)]  # noqa: F405
