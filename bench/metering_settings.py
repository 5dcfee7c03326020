"""Settings for bench/metering_overhead.py's gunicorn: the app's, with
bench/metering_pass_through.py as the URLconf (the app mounted unchanged, plus the pass-through)."""

from pos.settings import *  # noqa: F403

ROOT_URLCONF = "metering_pass_through"
