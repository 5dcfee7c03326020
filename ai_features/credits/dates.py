"""The one reading of a date or a moment from outside (a query string, a request body): strict
ISO 8601, ASCII digits only.

Python's own readers are looser: strptime's `%Y-%m-%d` takes `2026-1-1`, `\\d` takes Arabic-Indic
digits, and `fromisoformat` takes `20260101` and a space or any other character in place of `T`."""

import re
from datetime import date, datetime

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Minutes at least; seconds and up to 6 decimals optional; `Z` or ±HH:MM, or none (local time).
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)


def date_parse(text) -> date:
    """`2026-01-31` -> date(2026, 1, 31). Anything else (`2026-1-31`, `2026-02-30`, `20260131`,
    a time, spaces) raises ValueError."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise ValueError("not a date written YYYY-MM-DD")
    return date.fromisoformat(text)  # refuses month 13, 30 February


def datetime_parse(text) -> datetime:
    """`2026-01-31T13:00:00Z`, `…T13:00+01:00` or `…T13:00:00.5` (naive: the caller's time zone)
    -> datetime. Anything else raises ValueError."""
    if not isinstance(text, str) or not _MOMENT.fullmatch(text):
        raise ValueError("not an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH:MM])")
    return datetime.fromisoformat(text)  # refuses hour 24, an offset of a day or more
