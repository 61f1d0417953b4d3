"""The Origin rule for cookie-authenticated sockets (cross-site WebSocket hijacking)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def origin_allowed(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when the socket's Origin is this site itself, or one of CSRF_TRUSTED_ORIGINS.

    Host and port both count, as for Django's CSRF Origin check: browsers send cookies to
    every port of a host, so a page on 127.0.0.1:9000 must not ride a session of :8000.
    """
    values = dict(headers)
    origin = values.get(b"origin", b"").decode("latin-1")
    host = values.get(b"host", b"").decode("latin-1")
    if not origin or not host:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    parts = urlsplit(origin)
    return parts.netloc == host and validate_host(parts.hostname or "", allowed)
