"""Settings for bench/balance_http.py's gunicorn: the app's, with bench/bare_balance.py as the
URLconf (the app mounted unchanged, plus the bare yardstick view)."""

from pos.settings import *  # noqa: F403

ROOT_URLCONF = "bare_balance"
