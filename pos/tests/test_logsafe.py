"""Values from outside, as a log line shows them."""

import pytest

from pos.logsafe import loggable


@pytest.mark.parametrize(
    "value", ["AI-CREDIT-1763700000000-9f2c4b1a", "charge.success", "9400", "/ai/api/credits/"]
)
def test_plain_values_show_as_they_are(value):
    assert loggable(value) == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("a\nb", "'a\\nb'"),
        ("a\r\nINFO forged", "'a\\r\\nINFO forged'"),
        ("x outcome=credited", "'x outcome=credited'"),
        ("bell\x07\x1b[31m", "'bell\\x07\\x1b[31m'"),
        ("line\u2028sep", "'line\\u2028sep'"),
        ("", "''"),
        (9400, "9400"),
        (float("nan"), "nan"),
        (None, "None"),
        ({"a": 1}, "\"{'a': 1}\""),
    ],
)
def test_anything_else_is_quoted_with_control_characters_escaped(value, shown):
    assert loggable(value) == shown


def test_long_values_are_cut_before_escaping():
    assert loggable("a" * 500) == "a" * 80 + "..."
    assert loggable("\n" * 500, limit=3) == "'\\n\\n\\n'..."
