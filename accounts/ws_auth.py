"""WebSocket authentication: `?token=<key>` or the session cookie.

A token in the query string wins over the cookie, and a bad token leaves the socket
anonymous (closed with 4401) rather than falling back to the cookie. The scope gets
`credential` ("token:<key>" or "session:<key>") so the socket can be closed when
that credential is revoked.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from accounts.models import User
from common.hops import in_connect_thread
from common.prepared import Prepared

_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


# Asked by every token socket that connects (all of them at once after a restart): built once.
@Prepared
def _active_owner(key: str):
    return User.objects.filter(auth_token__key=key, is_active=True).values_list(*_USER_FIELDS)


@in_connect_thread
def _token_user(key: str):
    rows = _active_owner(key)
    if not rows:
        return AnonymousUser()
    return User.from_db(connection.alias, _USER_FIELDS, rows[0])


class _SessionCredential(BaseMiddleware):
    """Names the session a cookie-authenticated socket was opened with."""

    async def __call__(self, scope, receive, send):
        session = scope.get("session")
        key = session.session_key if session is not None else None
        return await super().__call__({**scope, "credential": f"session:{key}" if key else None}, receive, send)


class TokenOrSessionAuthMiddleware:
    """A token client skips the cookie and session machinery: after a restart every client
    reconnects at once, and a token socket then costs one database hop instead of two."""

    def __init__(self, inner):
        self.inner = inner
        self.by_cookie = AuthMiddlewareStack(_SessionCredential(inner))

    async def __call__(self, scope, receive, send):
        tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if not tokens:
            return await self.by_cookie(scope, receive, send)
        scope = {**scope, "user": await _token_user(tokens[0]), "credential": f"token:{tokens[0]}"}
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthStack(inner):  # noqa: N802  (named like Channels' AuthMiddlewareStack)
    return TokenOrSessionAuthMiddleware(inner)
