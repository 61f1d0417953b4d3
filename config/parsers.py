"""A JSON parser for the API that refuses input the database would choke on.

`json.loads` accepts lone surrogates ("\\ud800"), which later crash a SQLite write
with UnicodeEncodeError, and NaN. orjson refuses both, and deep nesting too.
"""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
