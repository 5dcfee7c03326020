"""The API's one request parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

import codecs

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from pos.jsonsafe import json_constant_refused, json_load, json_number


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, except that:
    - numbers with a fraction or an exponent are read as Decimal, exactly as written, never
      through float (`10.0000000000000000000000001` stays itself, for the money fields to
      refuse; design section 4);
    - NaN and Infinity are refused, as DRF's strict mode does;
    - a document nested too deeply for Python's parser is a 400 `parse_error`, not a
      RecursionError and a 500.

    Answers are unchanged: the renderer still writes money as JSON numbers."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return json_load(
                codecs.getreader(encoding)(stream),
                parse_float=json_number,
                parse_constant=json_constant_refused,
            )
        except ValueError as exc:  # TooDeep and UnicodeDecodeError are ValueErrors too
            raise ParseError(f"JSON parse error - {exc}") from exc
