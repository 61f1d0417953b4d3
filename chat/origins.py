"""The Origin rule for cookie-authenticated sockets (cross-site WebSocket hijacking)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def origin_allowed(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when the socket's Origin names one of ALLOWED_HOSTS (as Channels' validator does)."""
    origin = dict(headers).get(b"origin")
    if not origin:
        return False
    host = urlsplit(origin.decode("latin-1")).hostname
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(host) and validate_host(host, allowed)
