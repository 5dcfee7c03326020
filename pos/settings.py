"""Settings, read from the environment (section 3 of the design).

`.env` beside manage.py is loaded first; variables already in the environment win.
"""

import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def parse_taxes(spec: str) -> list[tuple[str, Decimal]]:
    """`VAT:12.5,NHIL:2.5` -> [("VAT", Decimal("12.5")), ("NHIL", Decimal("2.5"))]."""
    taxes = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, rate = item.partition(":")
        if not sep or not name.strip():
            raise ImproperlyConfigured(f"AI_CREDIT_TAXES: {item!r} is not NAME:PERCENT")
        try:
            taxes.append((name.strip(), Decimal(rate.strip())))
        except ArithmeticError as exc:
            raise ImproperlyConfigured(f"AI_CREDIT_TAXES: {rate!r} is not a number") from exc
    return taxes


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DEBUG is false; "
            "set it in the environment or in .env (see .env.example)."
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 (only ever used with DEBUG=true)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "accounts",
    "ai_features",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pos.urls"
WSGI_APPLICATION = "pos.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "Africa/Accra"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "AI Credits <no-reply@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pos.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "pos.exception_handler.api_exception_handler",
    # The SPA does arithmetic with money and credits, so they are JSON numbers.
    "COERCE_DECIMAL_TO_STRING": False,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# --- The product ---------------------------------------------------------------------------

FRONTEND_URL = env("FRONTEND_URL", "http://localhost:5173").rstrip("/")
PAYMENT_CALLBACK_ALLOWED_HOSTS = env_list(
    "PAYMENT_CALLBACK_ALLOWED_HOSTS", urlsplit(FRONTEND_URL).hostname or ""
)
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", FRONTEND_URL)

PAYSTACK_SECRET_KEY = env("PAYSTACK_SECRET_KEY")
PAYSTACK_PUBLIC_KEY = env("PAYSTACK_PUBLIC_KEY")
PAYSTACK_BASE_URL = env("PAYSTACK_BASE_URL", "https://api.paystack.co").rstrip("/")
PAYSTACK_TIMEOUT_SECONDS = float(env("PAYSTACK_TIMEOUT_SECONDS", "10"))

AI_CREDIT_CURRENCY = env("AI_CREDIT_CURRENCY", "GHS")
AI_CREDIT_EXPIRY_DAYS = int(env("AI_CREDIT_EXPIRY_DAYS", "180"))
AI_CREDIT_LOW_BALANCE_THRESHOLD = Decimal(env("AI_CREDIT_LOW_BALANCE_THRESHOLD", "10.00"))
AI_CREDIT_TAXES = parse_taxes(env("AI_CREDIT_TAXES", "VAT:12.5,NHIL:2.5,GETFund:2.5"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
