"""Parsers for the API that refuse input the database would choke on, and input past the size limit.

`json.loads` accepts lone surrogates ("\\ud800"), which later crash a SQLite write
with UnicodeEncodeError, and NaN. orjson refuses both, and deep nesting too.
DRF's parsers read the whole stream whatever DATA_UPLOAD_MAX_MEMORY_SIZE says (that
setting guards only `request.body` and `request.POST`), so these read at most one byte past it.
"""

from io import BytesIO

import orjson
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import FormParser, JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        super().__init__(f"Request bodies are limited to {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def read_bounded(stream) -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise PayloadTooLarge()
    return data


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(read_bounded(stream))
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


class BoundedFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(BytesIO(read_bounded(stream)), media_type, parser_context)
