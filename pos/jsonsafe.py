"""Reading JSON nobody vouches for: numbers as Decimal, never float, and a document nested too
deeply for Python's parser refused like any other malformed one (a ValueError, never a
RecursionError that ends in a 500).

Pure Python, no Django: settings and the money parser use it too."""

import json
import math
import re
from decimal import Decimal

# A JSON number as `json` hands it to parse_float: with a fraction and no exponent.
_PLAIN = re.compile(r"-?[0-9]+\.[0-9]+", re.ASCII)


class JSONDecimal(Decimal):
    """A JSON number with a fraction (`10.5`, `10.000`), exactly as written: its exponent says
    how many decimals were written, so money can refuse a third one even when it is a zero."""


class ExponentDecimal(Decimal):
    """A JSON number written with an exponent (`1e1`, `1.0e1`, `100E-2`). Its value is exact, but
    money refuses it (ai_features.credits.money): money is written as plain digits."""


def json_number(text: str) -> Decimal:
    """`parse_float` for json.loads: the number exactly as written, as a Decimal."""
    return JSONDecimal(text) if _PLAIN.fullmatch(text) else ExponentDecimal(text)


def json_constant_refused(name: str):
    """`parse_constant` for json.loads: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON value")


class TooDeep(ValueError):
    """The document nests arrays or objects deeper than the parser can follow."""


def json_loads(raw, **kwargs):
    """json.loads, but a document too deep to parse raises TooDeep (a ValueError) like any other
    malformed one. Python's parser recurses once per level of nesting: about a thousand levels
    (a 2 KB body) exhaust the interpreter's recursion limit."""
    try:
        return json.loads(raw, **kwargs)
    except RecursionError as exc:
        raise TooDeep("the JSON is nested too deeply") from exc


def json_load(stream, **kwargs):
    """json.load with json_loads' rule for a document nested too deeply."""
    try:
        return json.load(stream, **kwargs)
    except RecursionError as exc:
        raise TooDeep("the JSON is nested too deeply") from exc


def json_loads_finite(raw: bytes | str):
    """JSON as a gateway sends it, except that NaN, Infinity and floats beyond a double stay as
    their own text: Python's json reads them as non-finite floats, which a PostgreSQL JSON
    column refuses (a 500 where a rejection was due). A document nested too deeply to parse
    raises ValueError, like any other that is not JSON. (Amounts are integers of minor units
    here, so no float is ever money.)"""

    def finite_or_text(text: str):
        value = float(text)
        return value if math.isfinite(value) else text

    return json_loads(raw, parse_constant=str, parse_float=finite_or_text)
