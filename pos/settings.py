"""Settings, read from the environment (section 3 of the design).

`.env` beside manage.py is loaded first; variables already in the environment win.
"""

import logging
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
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
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "accounts",
    "ai_features",
]

MIDDLEWARE = [
    "pos.middleware.RequestLogMiddleware",
    # Before SecurityMiddleware, which reads X-Forwarded-Proto to decide about HTTPS.
    "pos.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The WebOnly* ones are Django's, skipped under /ai/api/ and /accounts/api/: those APIs
    # authenticate by token only, so sessions and messages are the admin's alone.
    "pos.web_only.WebOnlySessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After CORS, so the SPA can read a 413; before anything that reads a body.
    "pos.middleware.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "pos.web_only.WebOnlyAuthenticationMiddleware",
    "pos.web_only.WebOnlyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns an admin login it locked out into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# --- HTTPS (design section 14) -------------------------------------------------------------
# TLS ends at the load balancer, which says so in X-Forwarded-Proto. Only a proxy listed in
# FORWARDED_ALLOW_IPS (addresses or networks, or *) is believed: pos.middleware drops the header
# from anyone else, and `make serve` gives gunicorn the same list.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", "127.0.0.1")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off only where there is no TLS at all (`make run` sets it false; DEBUG on never redirects).
SECURE_SSL = env_bool("SECURE_SSL", True)
if SECURE_SSL and not DEBUG:
    SECURE_SSL_REDIRECT = True
    # The load balancer's health probe speaks plain HTTP to the instance.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    if not SECURE_HSTS_PRELOAD:
        # Preloading commits the whole domain to HTTPS in browsers for good: the domain owner's
        # decision (SECURE_HSTS_PRELOAD=true), not this app's default, so its warning is silenced.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Bodies over 1 MB get 413 (pos.middleware.RequestSizeLimitMiddleware); Paystack's webhooks and
# every API request are a few KB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

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

# PostgreSQL only, from DATABASE_URL. Settings never start a server: without DATABASE_URL they
# refuse, DEBUG on or off; `make run` and `make test` set it to the project's own server
# (scripts/devdb) when it is not set (docs/decisions.md, "The project's own PostgreSQL").
if not env("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Set it to a PostgreSQL server (postgres://user@host:5432/db), "
        "or use `make run` / `make test`, which start the project's own server when it is unset "
        "(or `export DATABASE_URL=$(scripts/devdb start)`)."
    )
try:
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60)}
except ValueError:  # a scheme dj-database-url does not know, or a URL it cannot read
    DATABASES = {"default": {"ENGINE": ""}}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a PostgreSQL URL ({urlsplit(env('DATABASE_URL')).scheme}://…): "
        "PostgreSQL is the only database this project runs on (postgres://user@host:5432/db)."
    )
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
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise serves the admin's and the API docs' static files from STATIC_ROOT
# (`collectstatic`, run by `make serve`), compressed and with cache-busting names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:  # the development server serves files straight from the apps, no collectstatic
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

# The cache lives in PostgreSQL with everything else, so every instance behind the load balancer
# shares it (migration accounts 0002 makes the table). The throttles count elsewhere, in one
# statement each (accounts/rate_limits.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "AI Credits <no-reply@localhost>")
EMAIL_TIMEOUT = 10  # alert mails are sent after a charge commits; a hung server must not hang it

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenBusinessAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's, but numbers are read as Decimal (never float) and JSON nested too deeply is a 400.
    "DEFAULT_PARSER_CLASSES": ["pos.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pos.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "pos.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "purchase": env("THROTTLE_RATE_PURCHASE", "10/min"),
        "verify": env("THROTTLE_RATE_VERIFY", "60/min"),
        "login": env("THROTTLE_RATE_AUTH", "10/min"),
        "register": env("THROTTLE_RATE_AUTH", "10/min"),
        "ai": env("THROTTLE_RATE_AI", "30/min"),
    },
    # 0: the client is the socket's address. Behind N trusted proxies, it is read from
    # X-Forwarded-For. (None would trust the whole header, which any client can write.)
    "NUM_PROXIES": int(env("NUM_PROXIES", "0")),
    # The SPA does arithmetic with money and credits, so they are JSON numbers.
    "COERCE_DECIMAL_TO_STRING": False,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

# /admin/login/ locks out a client IP, and separately a username, after AXES_FAILURE_LIMIT
# wrong passwords, for AXES_COOLOFF_MINUTES (answered 429). The API login has its own per-IP
# throttle (THROTTLE_RATE_AUTH); its failures are counted here too, but only the admin locks.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_ONLY_ADMIN_SITE = True
AXES_CLIENT_IP_CALLABLE = "pos.throttling.client_ip"  # as the throttles see it (NUM_PROXIES)
AXES_CLIENT_STR_CALLABLE = "pos.logsafe.axes_client_str"

# --- The product ---------------------------------------------------------------------------

FRONTEND_URL = env("FRONTEND_URL", "http://localhost:5173").rstrip("/")
PAYMENT_CALLBACK_ALLOWED_HOSTS = env_list(
    "PAYMENT_CALLBACK_ALLOWED_HOSTS", urlsplit(FRONTEND_URL).hostname or ""
)
_frontend = urlsplit(FRONTEND_URL)
# An origin is scheme://host[:port]; FRONTEND_URL may carry a path (the demo page's is /demo).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", f"{_frontend.scheme}://{_frontend.netloc}")
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-business-id", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

PAYSTACK_SECRET_KEY = env("PAYSTACK_SECRET_KEY")
PAYSTACK_PUBLIC_KEY = env("PAYSTACK_PUBLIC_KEY")
PAYSTACK_BASE_URL = env("PAYSTACK_BASE_URL", "https://api.paystack.co").rstrip("/")
PAYSTACK_TIMEOUT_SECONDS = float(env("PAYSTACK_TIMEOUT_SECONDS", "10"))
# The sandbox app: local stand-ins for Paystack (/sandbox/paystack/), Stripe (/sandbox/stripe/)
# and the LLM provider (/sandbox/openai/v1/), with the demo page at /demo/, installed and mounted
# only when SANDBOX is on. `make run` turns it on; `make serve` turns it off. PAYSTACK_SANDBOX,
# its old name, is still read when SANDBOX is unset, with a deprecation warning.
if env("SANDBOX"):
    SANDBOX = env_bool("SANDBOX", False)
elif env("PAYSTACK_SANDBOX"):
    # Logged, not warnings.warn: a DeprecationWarning from here is hidden by default, and
    # logging is not configured yet, so this reaches stderr through logging's last resort.
    logging.getLogger("pos.settings").warning(
        "PAYSTACK_SANDBOX is deprecated: set SANDBOX instead (SANDBOX wins when both are set)."
    )
    SANDBOX = env_bool("PAYSTACK_SANDBOX", False)
else:
    SANDBOX = False
PAYSTACK_SANDBOX_WEBHOOK_URL = env("PAYSTACK_SANDBOX_WEBHOOK_URL")
# Installed only with the sandbox on, so a production database never gets their tables. The
# sandbox app refuses to start with a live key of either gateway (sandbox.apps).
SANDBOX_APPS = ["sandbox", "demo_spa"]
if SANDBOX:
    INSTALLED_APPS += SANDBOX_APPS

# Stripe, the second gateway (card, in STRIPE_CURRENCY). Without the key it is not offered.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_CURRENCY = env("STRIPE_CURRENCY", "USD").upper()
STRIPE_TIMEOUT_SECONDS = float(env("STRIPE_TIMEOUT_SECONDS", "10"))
# Where the sandbox's Stripe stand-in posts its signed webhooks (make run only).
STRIPE_SANDBOX_WEBHOOK_URL = env("STRIPE_SANDBOX_WEBHOOK_URL")

# Webhook deliveries with a bad signature (anyone can send them): at most this many a minute
# are stored per client address, the rest only counted (design 7.4); the stored ones are
# purged by `expire_ai_credits` after this many days. Signed deliveries are never limited.
WEBHOOK_INVALID_PER_MINUTE = int(env("WEBHOOK_INVALID_PER_MINUTE", "60"))
WEBHOOK_INVALID_RETENTION_DAYS = int(env("WEBHOOK_INVALID_RETENTION_DAYS", "7"))
if WEBHOOK_INVALID_PER_MINUTE < 0 or WEBHOOK_INVALID_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "WEBHOOK_INVALID_PER_MINUTE and WEBHOOK_INVALID_RETENTION_DAYS must be at least 0."
    )

AI_CREDIT_CURRENCY = env("AI_CREDIT_CURRENCY", "GHS")
AI_CREDIT_EXPIRY_DAYS = int(env("AI_CREDIT_EXPIRY_DAYS", "180"))
AI_CREDIT_LOW_BALANCE_THRESHOLD = Decimal(env("AI_CREDIT_LOW_BALANCE_THRESHOLD", "10.00"))
AI_CREDIT_TAXES = parse_taxes(env("AI_CREDIT_TAXES", "VAT:12.5,NHIL:2.5,GETFund:2.5"))

# The LLM provider behind the AI features (section 12): any OpenAI-compatible chat-completions
# server. Without a key the features answer 503 and charge nothing.
AI_PROVIDER_BASE_URL = env("AI_PROVIDER_BASE_URL", "https://api.openai.com/v1").rstrip("/")
AI_PROVIDER_API_KEY = env("AI_PROVIDER_API_KEY")
AI_MODEL = env("AI_MODEL", "gpt-4o-mini")
AI_PROVIDER_TIMEOUT_SECONDS = float(env("AI_PROVIDER_TIMEOUT_SECONDS", "30"))
AI_PROVIDER_MAX_RETRIES = int(env("AI_PROVIDER_MAX_RETRIES", "1"))
AI_MAX_OUTPUT_TOKENS = int(env("AI_MAX_OUTPUT_TOKENS", "600"))
AI_MODEL_INPUT_USD_PER_1M = Decimal(env("AI_MODEL_INPUT_USD_PER_1M", "0.15"))
AI_MODEL_OUTPUT_USD_PER_1M = Decimal(env("AI_MODEL_OUTPUT_USD_PER_1M", "0.60"))
if AI_PROVIDER_TIMEOUT_SECONDS <= 0 or AI_PROVIDER_MAX_RETRIES < 0 or AI_MAX_OUTPUT_TOKENS < 1:
    raise ImproperlyConfigured(
        "AI_PROVIDER_TIMEOUT_SECONDS must be positive, AI_PROVIDER_MAX_RETRIES at least 0 and "
        "AI_MAX_OUTPUT_TOKENS at least 1."
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "AI credits API",
    "DESCRIPTION": (
        "Buy prepaid AI credits with Paystack (mobile money or card, GHS) and spend them on AI "
        "features. Authenticate with `Authorization: Token <key>` (from `/accounts/api/auth/"
        "token/`); a user in several businesses picks one with `X-Business-ID`. Errors are "
        '`{"detail", "code"}`; field validation errors use DRF\'s field-error shape.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/(accounts|ai)/api",
    "PREPROCESSING_HOOKS": ["pos.openapi.public_endpoints_only"],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Swagger UI's files are served from our own static files, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "pos.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per request comes from pos.middleware; Django's own would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # The provider SDK's HTTP client logs every request at INFO; our own lines say more.
        "httpx2": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # a line per lockout and per failure; not per request
    },
}
