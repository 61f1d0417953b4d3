"""Compatibility only, to be removed once no test imports it: tests/live.py has the REST helper
(`rest`), the socket (`Socket.open`) and signing in (`log_in(server, user)`, a WebSession).

These keep the old names and behaviour for tests written against them: `api` answers
(status, JSON or None), `Socket.expect` passes over frames of other types, and `SessionBrowser`
signs in with a test client's session.
"""

import urllib.error
import urllib.request
from urllib.parse import urlencode

from tests import live
from tests.live import QUIET_SECONDS
from tests.live import _NoRedirect as NoRedirect

__all__ = ["QUIET_SECONDS", "NoRedirect", "SessionBrowser", "Socket", "api"]


def api(server, user, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """`live.rest`, answered as (status, the JSON of a success or None)."""
    reply = live.rest(server, user, method, path, body)
    return reply.status, reply.data if reply.status < 400 else None


class Socket(live.Socket):
    @classmethod
    def with_token(cls, server, user) -> "Socket":
        return cls.open(server, user)

    def expect(self, frame_type: str, **match) -> dict:
        """The next frame of that type whose top-level fields match; others before it are passed over."""
        while True:
            frame = self.recv()
            if frame["type"] == frame_type and all(frame.get(k) == v for k, v in match.items()):
                return frame

    def expect_any(self, wanted) -> dict:
        """The next frame for which `wanted(frame)` holds; the others before it are kept, not returned."""
        while True:
            frame = self.recv()
            if wanted(frame):
                return frame

    def settle(self) -> None:
        self.send(type="ping")
        self.expect("pong")


class SessionBrowser:
    """A browser without JavaScript: the session cookie of `user`, CSRF token taken from a page."""

    def __init__(self, server, client, user):
        client.force_login(user)
        self.server = server
        self.opener = urllib.request.build_opener()
        self.session_key = client.cookies["sessionid"].value
        self.opener.addheaders = [("Cookie", f"sessionid={self.session_key}")]

    def get(self, path: str) -> int:
        with self.opener.open(self.server.url + path, timeout=10) as response:
            self._remember_csrf(response)
            return response.status

    def _remember_csrf(self, response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith("csrftoken="):
                self.csrf = header.split(";", 1)[0].split("=", 1)[1]

    def post_form(self, path: str, fields: dict | list) -> int:
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        data = urlencode([*items, ("csrfmiddlewaretoken", self.csrf)]).encode()
        request = urllib.request.Request(self.server.url + path, data=data, method="POST")
        request.add_header("Cookie", f"sessionid={self.session_key}; csrftoken={self.csrf}")
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def socket(self) -> Socket:
        headers = {"Cookie": f"sessionid={self.session_key}"}
        return Socket.open(self.server, origin=self.server.url, additional_headers=headers)
