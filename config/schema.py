"""OpenAPI post-processing: every status an operation can answer, and the rules validation enforces.

drf-spectacular documents the success answers. Clients (and schemathesis) read the schema
for the rest, so this adds them once for every operation instead of in each view:

- 400 for input the API refuses;
- 401 on every operation that accepts a token: a revoked or mistyped token is refused
  even where a visitor without one may read (DRF authenticates before it checks permissions);
- 403 for what is not the caller's to do, or a cookie-authenticated write without the CSRF token;
- 404 for an id that is not there or not the caller's (the same answer for both);
- 413 for a request body past DATA_UPLOAD_MAX_MEMORY_SIZE (config.middleware);
- 429's Retry-After, where a view names its limit; the error body of any other error status
  a view names (409: CONFLICT_RESPONSE).

And the constraints a field's validators enforce but its schema did not say: a pattern that
bounds the length of the whole value (`^[A-Za-z0-9_]{3,30}$`) bounds minLength/maxLength too,
and a new password carries the minimum length of AUTH_PASSWORD_VALIDATORS.

tests/test_docs.py checks the statuses against real answers and the constraints against
validation; `make schema` writes docs/openapi.yaml from this.
"""

import re

from django.conf import settings
from django.contrib.auth import password_validation
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse

ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` (and often `code`) for an error, or a list of messages per field.",
    "additionalProperties": True,
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# Views name their limit with `responses={..., 429: RATE_LIMITED_RESPONSE}`; this fills it in.
RATE_LIMITED = {
    "description": "Past an abuse limit: the Retry-After header says how many seconds to wait.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    "content": ERROR_CONTENT,
}
RATE_LIMITED_RESPONSE = OpenApiResponse(description=RATE_LIMITED["description"])
# A status only some operations answer (409 where a service refuses with it) is named by the view,
# `responses={..., 409: CONFLICT_RESPONSE}`; every error status named so gets the error body here.
CONFLICT_RESPONSE = OpenApiResponse(description="In conflict with what is stored; `code` says how.")

# `^` one character class or escape, a bounded repetition, `$`: the whole value's length is bounded.
WHOLE_VALUE_LENGTH = re.compile(r"^\^(?:\[[^\]]+\]|\\[a-zA-Z])\{(\d+),(\d+)\}\$$")


def _error(description: str) -> dict:
    return {"description": description, "content": ERROR_CONTENT}


def _too_large() -> dict:
    return {
        "description": f"The request body is past {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            security = operation.get("security", [{}])
            if method != "get" or any(p["in"] == "query" for p in parameters):
                responses.setdefault("400", _error("The input was refused; the body says why."))
            accepts_credentials = any(security)
            visitors_allowed = {} in security
            if accepts_credentials:
                responses.setdefault("401", _error("No valid token or session (a revoked token included)."))
            if accepts_credentials and not visitors_allowed:
                responses.setdefault(
                    "403",
                    _error("Not the caller's to do (`code` says why), or a cookie-authenticated write without CSRF."),
                )
            if "{" in path or (method != "get" and not visitors_allowed):
                responses.setdefault("404", _error("No such item (in the path or the body), or not the caller's."))
            elif any(p["name"] == "cursor" for p in parameters):
                responses.setdefault("404", _error("The cursor is not one this list gave out."))
            if "requestBody" in operation:
                responses.setdefault("413", _too_large())
            if "429" in responses:
                responses["429"] = RATE_LIMITED
            for status, response in responses.items():
                if status.startswith("4") and "content" not in response:
                    response["content"] = ERROR_CONTENT
    return result


def document_length_patterns(result, generator, request, public):
    """A string whose pattern bounds its length gets that minLength and maxLength (the tighter wins)."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            bounds = WHOLE_VALUE_LENGTH.match(prop.get("pattern", ""))
            if bounds is None:
                continue
            low, high = int(bounds[1]), int(bounds[2])
            prop["minLength"] = max(prop.get("minLength", 0), low)
            prop["maxLength"] = min(prop.get("maxLength", high), high)
    return result


class NewPasswordSchema(OpenApiSerializerExtension):
    """Sign-up runs Django's password validators: their minimum length and their rules go into the schema.

    (Imported with config.schema, which every API module imports for RATE_LIMITED_RESPONSE,
    so it is registered before the URLconf is read.)
    """

    target_class = "accounts.serializers.RegisterSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        password = schema["properties"]["password"]
        validators = password_validation.get_default_password_validators()
        minimums = [v.min_length for v in validators if isinstance(v, password_validation.MinimumLengthValidator)]
        if minimums:
            password["minLength"] = max(password.get("minLength", 0), *minimums)
        rules = password_validation.password_validators_help_texts(validators)
        if rules:
            password["description"] = " ".join(rules)
        return schema
