"""Settings for the test suite: production settings plus a throwaway key and fast hashing, and
the sandbox apps installed (their tests need their tables and templates) while SANDBOX
stays off: each sandbox test switches it on itself."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
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
