"""A database that cannot be reached answers 503 `database_unavailable` with `Retry-After: 5`,
not 500, wherever in a request the failure comes (design section 14):

- in a DRF view, its authentication or its throttles: the API's exception handler
  (pos.exception_handler) answers it;
- anywhere else (a middleware, a plain Django view such as the admin): Django turns the
  exception into the 500 handler's answer, and that handler (pos.views.server_error) answers
  503 instead when this is the exception it is handling.

Either way one ERROR line names the failure, without a traceback: a restart under load is
dozens of them a second."""

import logging

import psycopg2
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from pos.errors import DatabaseUnavailable
from pos.logsafe import loggable

logger = logging.getLogger("pos.database")

# SQLSTATEs of a server that is going or not there (PostgreSQL's appendix A): class 08
# (connection exception), admin_shutdown, crash_shutdown, cannot_connect_now, and
# too_many_connections. A deadlock, a serialization failure or a statement timeout is an
# OperationalError too, but the database is up: those stay errors of their own.
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database cannot be reached (rather than refusing a statement)."""
    if isinstance(exc, InterfaceError | psycopg2.InterfaceError):
        return True  # "connection already closed"
    if not isinstance(exc, OperationalError | psycopg2.OperationalError):
        return False
    # Django re-raises the driver's error as its own, from the driver's.
    driver = exc.__cause__ if isinstance(exc.__cause__, psycopg2.Error) else exc
    sqlstate = getattr(driver, "pgcode", None)
    # No SQLSTATE: no server answered (refused, reset, a name that does not resolve).
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES


def database_unavailable_logged(request, exc: BaseException) -> DatabaseUnavailable:
    driver = exc.__cause__ if isinstance(exc.__cause__, psycopg2.Error) else exc
    logger.error(
        "database unavailable: %s %s %s%s",
        request.method,
        loggable(request.path, limit=200),
        type(driver).__name__,
        f" sqlstate={driver.pgcode}" if getattr(driver, "pgcode", None) else "",
    )
    return DatabaseUnavailable()


def database_unavailable_response(request, exc: BaseException) -> JsonResponse:
    """The 503 for a request outside DRF (pos.views.server_error)."""
    error = database_unavailable_logged(request, exc)
    response = JsonResponse({"detail": error.detail, "code": error.code}, status=503)
    response["Retry-After"] = str(error.retry_after_seconds)
    response._has_been_logged = True  # noqa: SLF001 (Django's own flag: no second line)
    return response
