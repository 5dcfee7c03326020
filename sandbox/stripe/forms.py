"""Stripe's request side: form-encoded bodies with bracket keys, read with Stripe's checks, and
Stripe's error envelope.

The SDK encodes `{"line_items": [{"price": "price_1", "quantity": 1}]}` as
`line_items[0][price]=price_1&line_items[0][quantity]=1`; `form_parse` turns that back into
nested dicts and lists, and `Params` reads it the way Stripe validates it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

INTEGER = re.compile(r"^-?[0-9]+$")
KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
SEGMENT = re.compile(r"\[([^\[\]]*)\]")
CURRENCY = re.compile(r"^[a-z]{3}$")
METADATA_KEYS_MAX = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
SANDBOX_SUBSET = "the Stripe sandbox supports a subset of Stripe's parameters"


@dataclass
class StripeError(Exception):
    """An answer in Stripe's error envelope.

    `saved` says whether an idempotent request keeps this answer for its repeats: Stripe keeps
    what a request did once it ran, but not a refusal of its parameters, which may be retried.
    """

    message: str
    http_status: int = 400
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    saved: bool = False

    def body(self) -> dict:
        """`{"error": {"type", "code", "message", "param"}}`, as Stripe answers errors."""
        return {
            "error": {
                "type": self.type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
            }
        }


def param_missing(name: str) -> StripeError:
    """Stripe's refusal of a request without a required parameter."""
    return StripeError(f"Missing required param: {name}.", code="parameter_missing", param=name)


def param_unknown(name: str) -> StripeError:
    """Stripe's refusal of a parameter it does not take (or the sandbox does not model)."""
    return StripeError(
        f"Received unknown parameter: {name} ({SANDBOX_SUBSET})",
        code="parameter_unknown",
        param=name,
    )


def param_invalid(name: str, message: str, code: str = "parameter_invalid") -> StripeError:
    """Stripe's refusal of a parameter whose value is wrong."""
    return StripeError(message, code=code, param=name)


def resource_missing(kind: str, object_id: str, param: str, http_status: int = 404) -> StripeError:
    """`No such price: 'price_x'`: 404 for the object in the URL, 400 for one named in the body."""
    return StripeError(
        f"No such {kind}: '{object_id}'",
        http_status=http_status,
        code="resource_missing",
        param=param,
    )


def state_error(message: str, *, param: str | None = None, code: str | None = None):
    """A request that ran but found the object in the wrong state; kept for idempotent repeats."""
    return StripeError(message, code=code, param=param, saved=True)


# --- Parsing -----------------------------------------------------------------------------------


def _segments(raw_key: str) -> list[str]:
    match = KEY.match(raw_key)
    if not match:
        raise param_invalid(raw_key, f"Invalid parameter name: {raw_key}")
    return [match.group(1), *SEGMENT.findall(match.group(2))]


def _insert(tree: dict, raw_key: str, segments: list[str], value: str) -> None:
    node = tree
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment == "":  # `expand[]=a&expand[]=b`: the next free index
            segment = str(len(node))
        if last:
            if isinstance(node.get(segment), dict):
                raise param_invalid(raw_key, f"Invalid hash: {raw_key} is also an object")
            node[segment] = value
            return
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise param_invalid(raw_key, f"Invalid hash: {raw_key} is also a value")
        node = child


def _arrays(node, name: str = ""):
    """Turn every hash whose keys are exactly 0..n-1 into a list, as Stripe reads arrays."""
    if not isinstance(node, dict):
        return node
    converted = {
        key: _arrays(value, f"{name}[{key}]" if name else key) for key, value in node.items()
    }
    # Metadata keys may be digits (`metadata[1]=…`); a metadata hash stays a hash.
    is_metadata = name.endswith(("metadata", "[metadata]"))
    if name and not is_metadata and converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes != list(range(len(indexes))):
            raise param_invalid(name, f"Invalid array: {name} must be indexed from 0")
        return [converted[str(index)] for index in indexes]
    return converted


def form_parse(items: Iterable[tuple[str, list[str]]]) -> dict:
    """`(key, values)` pairs of a form body or query into nested dicts and lists."""
    tree: dict = {}
    for raw_key, values in items:
        segments = _segments(raw_key)
        for value in values if segments[-1] == "" else values[-1:]:
            _insert(tree, raw_key, segments, value)
    return _arrays(tree)


# --- Reading -----------------------------------------------------------------------------------


class Params:
    """A parsed body (or a hash inside it) read with Stripe's checks; errors name the full path."""

    def __init__(self, data: dict, path: str = ""):
        self.data = data
        self.path = path

    def name(self, key: str) -> str:
        """The parameter's name as Stripe reports it, e.g. `line_items[0][price]`."""
        return f"{self.path}[{key}]" if self.path else key

    def only(self, *allowed: str) -> None:
        """Refuse any parameter not in `allowed`; `expand` is always allowed."""
        unknown = sorted(set(self.data) - {*allowed, "expand"})
        if unknown:
            raise param_unknown(self.name(unknown[0]))

    def has(self, key: str) -> bool:
        """Whether the request sent this parameter at all (an empty string counts)."""
        return key in self.data

    def _scalar(self, key: str):
        value = self.data.get(key)
        if isinstance(value, dict | list):
            raise param_invalid(self.name(key), f"Invalid string: {self.name(key)} is an object")
        return value

    def string(self, key: str, *, required: bool = False, max_length: int = 5000) -> str | None:
        """A string; an empty one reads as unset (Stripe's way of clearing a field)."""
        value = self._scalar(key)
        if value in (None, ""):
            if required:
                raise param_missing(self.name(key))
            return None
        if len(value) > max_length:
            raise param_invalid(
                self.name(key),
                f"Invalid string: {self.name(key)} must be at most {max_length} characters",
            )
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        """A whole number within bounds; `10.5`, `1e3` and `ten` are refused."""
        value = self._scalar(key)
        if value in (None, ""):
            if required:
                raise param_missing(self.name(key))
            return None
        if not INTEGER.match(value):
            raise param_invalid(
                self.name(key), f"Invalid integer: {value}", code="parameter_invalid_integer"
            )
        number = int(value)
        if number < minimum:
            raise param_invalid(
                self.name(key),
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
            )
        if maximum is not None and number > maximum:
            raise param_invalid(
                self.name(key),
                f"This value must be less than or equal to {maximum}.",
                code="parameter_invalid_integer",
            )
        return number

    def boolean(self, key: str) -> bool | None:
        """`true` or `false`, as the SDK sends Python booleans."""
        value = self._scalar(key)
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise param_invalid(self.name(key), f"Invalid boolean: {value}")
        return value == "true"

    def choice(self, key: str, choices: Iterable[str], *, required: bool = False) -> str | None:
        """One of `choices`."""
        value = self.string(key, required=required)
        choices = tuple(choices)
        if value is not None and value not in choices:
            raise param_invalid(
                self.name(key),
                f"Invalid {self.name(key)}: must be one of {', '.join(choices)}",
            )
        return value

    def currency(self, key: str = "currency", *, required: bool = True) -> str | None:
        """A three-letter ISO code, kept lowercase as Stripe answers it."""
        value = self.string(key, required=required)
        if value is None:
            return None
        value = value.lower()
        if not CURRENCY.match(value):
            raise param_invalid(self.name(key), f"Invalid currency: {value}")
        return value

    def url(self, key: str) -> str | None:
        """An absolute http(s) URL; Checkout's `{CHECKOUT_SESSION_ID}` template is kept as sent."""
        value = self.string(key)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise param_invalid(self.name(key), "Not a valid URL", code="url_invalid")
        return value

    def hash(self, key: str) -> "Params | None":
        """A nested hash such as `payment_intent_data`, or None when it was not sent."""
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if not isinstance(value, dict):
            raise param_invalid(self.name(key), f"Invalid object: {self.name(key)}")
        return Params(value, self.name(key))

    def array(self, key: str) -> list | None:
        """A list sent as `key[0]=…&key[1]=…`, or None when it was not sent."""
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if not isinstance(value, list):
            raise param_invalid(self.name(key), f"Invalid array: {self.name(key)}")
        return value

    def strings(self, key: str, *, max_items: int = 100) -> list[str] | None:
        """A list of strings such as `expand` or `lookup_keys`."""
        values = self.array(key)
        if values is None:
            return None
        if len(values) > max_items or not all(isinstance(value, str) for value in values):
            raise param_invalid(
                self.name(key), f"Invalid array: {self.name(key)} takes up to {max_items} strings"
            )
        return values

    def metadata(self, key: str = "metadata") -> dict | None:
        """A metadata patch: None when not sent, `{}` for `metadata=""` (clear all), else the
        sent keys, where an empty value means "remove this key" on an update."""
        value = self.data.get(key)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict) or any(isinstance(v, dict | list) for v in value.values()):
            raise param_invalid(self.name(key), f"Invalid object: {self.name(key)}")
        if len(value) > METADATA_KEYS_MAX:
            raise param_invalid(self.name(key), f"Metadata can have up to {METADATA_KEYS_MAX} keys")
        for meta_key, meta_value in value.items():
            if len(meta_key) > METADATA_KEY_MAX:
                raise param_invalid(
                    f"{self.name(key)}[{meta_key}]",
                    f"Metadata keys must be at most {METADATA_KEY_MAX} characters",
                )
            if len(meta_value) > METADATA_VALUE_MAX:
                raise param_invalid(
                    f"{self.name(key)}[{meta_key}]",
                    f"Metadata values must be at most {METADATA_VALUE_MAX} characters",
                )
        return value


def metadata_apply(current: dict, patch: dict | None) -> dict:
    """Stripe's metadata update: keys merge in, an empty value removes its key, `{}` clears."""
    if patch is None:
        return dict(current)
    if not patch:
        return {}
    merged = {**current, **patch}
    return {key: value for key, value in merged.items() if value != ""}
