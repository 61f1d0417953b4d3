"""Talking to the live daphne as a user would: REST with a token, forms with a session and CSRF
token, and sockets that keep every frame they got.

Writes go to the live server, not through an in-process client: the server's channel layer
holds the sockets, and on the in-memory layer only its own writes reach them.
"""

import json
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.services import token_for

# How long a socket is watched for frames that must not come: the revocation promise.
QUIET_SECONDS = 1.0


def api(server, user, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """A REST call as `user` (or with a token key given as a string) to the live server."""
    key = user if isinstance(user, str) else token_for(user=user).key
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None


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

    def socket(self) -> "Socket":
        headers = {"Cookie": f"sessionid={self.session_key}"}
        return Socket(connect(self.server.ws_url, origin=self.server.url, additional_headers=headers, open_timeout=5))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Socket:
    """A real websocket client that keeps every frame it received, for counting afterwards."""

    def __init__(self, connection):
        self._stack = ExitStack()
        self.connection = self._stack.enter_context(connection)
        self.frames: list[dict] = []
        self.closed_code: int | None = None

    @classmethod
    def with_token(cls, server, user) -> "Socket":
        return cls(connect(f"{server.ws_url}?token={token_for(user=user).key}", open_timeout=5))

    def send(self, **frame) -> None:
        self.connection.send(json.dumps(frame))

    def recv(self, timeout: float = 5) -> dict:
        frame = json.loads(self.connection.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def expect(self, frame_type: str, **match) -> dict:
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
        """Returns once the server has handled every frame sent so far (a ping's pong)."""
        self.send(type="ping")
        self.expect("pong")

    def drain(self, seconds: float = QUIET_SECONDS) -> list[dict]:
        """Every frame that arrives within `seconds` (none expected, usually)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.recv(timeout=left))
            except TimeoutError:
                break
            except ConnectionClosed:
                break
        return got

    def wait_closed(self, timeout: float = 5, since: float | None = None) -> tuple[int | None, list[dict], float]:
        """(close code, frames received before the close, seconds since `since` (default: now))."""
        started = time.monotonic() if since is None else since
        got = []
        while True:
            try:
                got.append(self.recv(timeout=timeout))
            except ConnectionClosed as closed:
                self.closed_code = closed.rcvd.code if closed.rcvd else None
                return self.closed_code, got, time.monotonic() - started
            except TimeoutError:
                return None, got, time.monotonic() - started

    def close(self) -> None:
        self._stack.close()
