"""OpenAPI post-processing: document the error answers, which drf-spectacular leaves out.

Clients (and schemathesis) read the schema for every status an operation can give:
400 for input the API refuses, 401/403 without valid credentials (or, with the
session cookie, without the CSRF token), 404 for an id that is not there or not
the caller's (the same answer for both).
"""

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


def _error(description: str) -> dict:
    return {"description": description, "content": ERROR_CONTENT}


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            if method != "get" or any(p["in"] == "query" for p in parameters):
                responses.setdefault("400", _error("The input was refused; the body says why."))
            authenticated = {} not in operation.get("security", [{}])
            if authenticated:
                responses.setdefault("401", _error("No valid token or session."))
                responses.setdefault("403", _error("A cookie-authenticated write without the CSRF token."))
            if "{" in path or (method != "get" and authenticated):
                responses.setdefault("404", _error("No such item (in the path or the body), or not the caller's."))
            elif any(p["name"] == "cursor" for p in parameters):
                responses.setdefault("404", _error("The cursor is not one this list gave out."))
            if "429" in responses:
                responses["429"] = RATE_LIMITED
    return result
