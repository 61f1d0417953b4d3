"""The one error model: a refusal a service raises, mapped to an answer once per transport.

Services raise a `ServiceError` (or a subclass); `config.exceptions` turns it into an HTTP
answer for the API, `config.middleware.ServiceErrorMiddleware` for pages, and the /ws/
consumer into an `error` frame. Every app imports this module; it imports nothing of theirs.

Raise a new instance every time (`raise NotFound()`): re-raising one shared instance
grows its `__traceback__` on each raise and keeps old frames and their locals alive in a
long-running worker.
"""


class ServiceError(Exception):
    """A request the user may fix: `code` is machine-readable, `detail` is for people, `status` the HTTP answer."""

    code = "invalid"
    status = 400
    detail = "Invalid request."

    def __init__(self, code: str | None = None, detail: str | None = None, status: int | None = None):
        if code is not None:
            self.code = code
        if detail is not None:
            self.detail = detail
        if status is not None:
            self.status = status
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, detail={self.detail!r}, status={self.status})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ServiceError) and (self.code, self.detail, self.status) == (
            other.code,
            other.detail,
            other.status,
        )

    __hash__ = Exception.__hash__


class NotFound(ServiceError):
    """Missing and not-yours alike: one answer, so nobody learns what exists."""

    code = "not_found"
    status = 404
    detail = "Not found."


class RateLimited(ServiceError):
    """An abuse limit: 429 with Retry-After over HTTP, an `error` frame with `retry_after` on the socket."""

    code = "rate_limited"
    status = 429
    detail = "Too many requests. Try again later."

    def __init__(self, retry_after: int, detail: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(detail=detail)
