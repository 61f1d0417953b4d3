"""Talking to a live daphne as people do: a daphne process, REST calls with a token, the login
page, and WebSockets that read every frame.

Writes that must reach open sockets go to the live server, not through an in-process client:
the server's channel layer holds the sockets, and on the in-memory layer only its own writes
reach them.

- `LiveDaphne`: a daphne process on the test database (the fixtures are in tests/conftest.py).
- `rest(server, user, method, path, body)`: one REST call; a `Reply` with the status and the JSON.
- `Socket.open(server, user)`: a socket whose `expect(type)` is the very next frame, or a failure.
- `log_in(page_or_server, user)`: through the login page, in Chromium or over plain HTTP.
- `session_socket(server, session_key)`: a socket opened as the pages open theirs, on that session.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote, urlencode

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
WEBSOCKET_MAX_MESSAGE_SIZE = 131072  # as the Makefile runs daphne
# config.serve is daphne with read deadlines for slow clients; the Makefile's flags.
DAPHNE_FLAGS = ["--http-header-timeout", "10", "--http-body-timeout", "30", "--websocket_connect_timeout", "30"]
# How long a socket is watched for frames that must not come.
QUIET_SECONDS = 1.0


# The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    """Returns once `process` accepts connections on 127.0.0.1:`port`; fails the test (and kills
    it) if it exits first or takes longer than `timeout` seconds, with what it wrote to a piped stderr."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                said = process.communicate()[1] if process.stderr is not None else None
                pytest.fail(f"{name} did not start" + (f": {said.decode(errors='replace')}" if said else ""))
            time.sleep(0.05)


def _database_url(settings_dict: dict) -> str:
    if "sqlite" in settings_dict["ENGINE"]:  # Django's backend or common.sqlite
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def daphne_env() -> dict:
    """The environment of a daphne serving the test database (call with the database set up)."""
    from django.db import connection

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
    }


def stop_process(process: subprocess.Popen | None) -> None:
    """Ends a server a test started: SIGTERM, then SIGKILL if it has not gone within 10 s."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LiveDaphne:
    """A daphne process on a fixed port, which a test may stop and start again (a worker restart)."""

    def __init__(self, env: dict, log=None):
        self.env = env
        self.log = log  # a file for daphne's stderr (its log lines); None inherits the test's
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "config.serve", "-v", "0", "-b", "127.0.0.1", "-p", str(self.port)]
        command += ["--websocket-max-message-size", str(WEBSOCKET_MAX_MESSAGE_SIZE), *DAPHNE_FLAGS]
        self.process = subprocess.Popen([*command, "config.asgi:application"], cwd=ROOT, env=self.env, stderr=self.log)
        wait_listening(self.port, self.process, "daphne")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


@contextmanager
def own_daphne(**settings_env: str):
    """A daphne of its own on the test database, some settings changed through its environment
    (small limits, so a test reaches them in a few frames). Its cache is its own, too."""
    server = LiveDaphne({**daphne_env(), **settings_env})
    server.start()
    try:
        yield server
    finally:
        server.stop()


# REST ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any  # the JSON body (None when empty or not JSON)
    headers: Message = field(repr=False)

    def json(self) -> Any:
        """The body of a successful answer; any other status fails the test, showing the answer."""
        assert 200 <= self.status < 300, f"{self.status}: {self.data}"
        return self.data


def _token_key(user) -> str:
    from accounts.services import token_for

    return user if isinstance(user, str) else token_for(user=user).key


def rest(
    server, user, method: str, path: str, body: Any = None, *, headers: dict | None = None, raw: bytes | None = None
) -> Reply:
    """One REST call to the live server as `user` (a User, a token key, or None for a visitor).

    `body` goes as JSON; `raw` bytes go as they are (with their Content-Type in `headers`).
    Every status comes back as a `Reply` (4xx and 5xx too): `.status` and `.data` to look at,
    `.json()` for the body of a call that must succeed.
    """
    sent = {"Content-Type": "application/json", **(headers or {})}
    if user is not None:
        sent["Authorization"] = f"Token {_token_key(user)}"
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=raw if raw is not None else json.dumps(body).encode() if body is not None else None,
        headers=sent,
    )
    status, answer_headers, raw = _answer(request, timeout=30)
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    return Reply(status, data, answer_headers)


def _answer(request: urllib.request.Request, *, timeout: float) -> tuple[int, Message, bytes]:
    """The status, headers and body of a request, whatever the status (4xx and 5xx too)."""
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return response.status, response.headers, response.read()


def fetch(server, path: str, method: str = "GET", body: bytes | None = None, **headers) -> tuple[int, dict, bytes]:
    """One plain HTTP request to the live server (a file, a page): status, headers and the raw body."""
    request = urllib.request.Request(server.url + path, data=body, method=method, headers=headers)
    status, answer_headers, raw = _answer(request, timeout=10)
    return status, dict(answer_headers.items()), raw


def upload(
    server, user, data: bytes, *, name: str = "photo.jpg", alt: str = "", content_type: str = "image/jpeg"
) -> Reply:
    """POST /api/media/ as a browser sends it: multipart, `data` as the `file` part, then `alt`."""
    boundary = "tandem-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + data
    body += (
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\n{alt}\r\n--{boundary}--\r\n'.encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return rest(server, user, "POST", "/api/media/", raw=body, headers=headers)


# Sockets ------------------------------------------------------------------------------------


def frame_is(frame: dict, frame_type: str, fields: dict) -> bool:
    """A `frame_type` frame whose `fields` equal those given (one the frame lacks is looked for in its `message`)."""
    if frame.get("type") != frame_type:
        return False
    message = frame.get("message") if isinstance(frame.get("message"), dict) else {}
    return all((frame[key] if key in frame else message.get(key)) == value for key, value in fields.items())


class Closed(NamedTuple):
    code: int | None  # None: still open when the wait ended; 1006: dropped without a close frame
    frames: list[dict]  # what came before the close
    seconds: float


class Socket:
    """A real WebSocket client that reads every frame, in order, and keeps them all in `frames`.

    `expect(type)` is the next frame, which must be of that type: another frame first fails the
    test (unless its type is named in `skip=`), so "X came, and nothing else before it" is what
    an `expect` asserts.
    """

    # Every socket still open: the suite closes them after each test (tests/conftest.py), so that
    # one test's sockets going offline late cannot reach the next test's.
    still_open: ClassVar[set["Socket"]] = set()

    def __init__(self, connection):
        self._stack = ExitStack()
        self.connection = self._stack.enter_context(connection)
        Socket.still_open.add(self)
        self.frames: list[dict] = []  # every frame received, skipped ones included
        self.last_seq = 0
        self.closed_code: int | None = None

    @classmethod
    def open(cls, server, user=None, *, query: str = "", **options) -> "Socket":
        """A socket signed in with `user`'s token (a User or a key; None: no credentials).

        `options` go to websockets' connect: `origin=`, `additional_headers=` (a session cookie),
        `max_size=`, or `sock=` and `max_queue=1` for a client that stalls.
        """
        url = server.ws_url + (f"?token={_token_key(user)}" if user is not None else query)
        # A test reads what it expects and leaves the rest: with websockets' default queue (16
        # frames) full, it stopped reading the socket, so at the end of a test the server's close
        # frame waited behind the frames still coming until close_timeout (10 s by default) gave up,
        # for each such socket. Unbounded, the client reads everything as it comes (a stalling
        # client passes max_queue=1); and a second is ample for a close on loopback.
        options.setdefault("max_queue", None)
        options.setdefault("close_timeout", 1)
        return cls(connect(url, open_timeout=5, **options))

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, **frame) -> None:
        self.connection.send(json.dumps(frame))

    def send_raw(self, data: str | bytes) -> None:
        """Sends exactly `data`: for frames that are not JSON objects."""
        self.connection.send(data)

    def recv(self, timeout: float = 5) -> dict:
        """The next frame (TimeoutError when none comes; ConnectionClosed when the socket closes)."""
        frame = json.loads(self.connection.recv(timeout=timeout))
        self.frames.append(frame)
        if isinstance(frame, dict) and isinstance(frame.get("seq"), int):
            self.last_seq = max(self.last_seq, frame["seq"])
        return frame

    def _next(self, accepts, wanted: str, skip, timeout: float) -> dict:
        """The next frame that `accepts`; one of a type in `skip` that it does not accept is passed
        over (kept in `frames`), and any other frame fails the test."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self.recv(timeout=max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                raise AssertionError(f"no {wanted} frame within {timeout} s") from None
            if accepts(frame):
                return frame
            assert frame.get("type") in skip, f"expected {wanted}, got {frame}"

    def expect(self, frame_type: str, timeout: float = 5, *, skip=(), **fields) -> dict:
        """The next frame, which must be a `frame_type` whose `fields` equal those given (a field the
        frame lacks is looked for in its `message`: `body=`, `sender=`).

        Frames of a type named in `skip` may come first and are passed over (they stay in `frames`);
        any other frame fails the test. Naming `frame_type` in `skip` too passes over frames of
        that type whose fields differ.
        """
        return self.expect_any((frame_type,), timeout, skip=skip, **fields)

    def expect_all(self, frame_types: tuple[str, ...], timeout: float = 5, *, skip=()) -> dict:
        """One frame of each of `frame_types` in whatever order they come, as {type: frame}: a
        send's ack and its own message.new, say. Any other frame fails, unless its type is in `skip`."""
        got: dict[str, dict] = {}
        while len(got) < len(frame_types):
            wanted = tuple(t for t in frame_types if t not in got)
            frame = self._next(lambda frame: frame.get("type") in wanted, " or ".join(wanted), skip, timeout)  # noqa: B023
            got[frame["type"]] = frame
        return got

    def expect_any(self, frame_types: tuple[str, ...], timeout: float = 5, *, skip=(), **fields) -> dict:
        """The next frame, which must be of one of `frame_types` with the `fields` given: the answer
        to a question that has more than one (an ack or an error, a pong or an error). Frames of a
        type named in `skip` may come first; any other frame fails the test."""

        def accepts(frame: dict) -> bool:
            return any(frame_is(frame, frame_type, fields) for frame_type in frame_types)

        wanted = " or ".join(frame_types) + (f" with {fields}" if fields else "")
        return self._next(accepts, wanted, skip, timeout)

    def until(self, frame_type: str, timeout: float = 5) -> list[dict]:
        """Every frame up to and including the first `frame_type` (the last one): for callers that
        look at what came before it, such as a replay up to its `resume.done`."""
        got = [self.recv(timeout)]
        while got[-1].get("type") != frame_type:
            got.append(self.recv(timeout))
        return got

    def settle(self) -> list[dict]:
        """Returns once the server has handled every frame sent so far (a ping's pong), with the
        frames that came before the pong, for the caller to check."""
        self.send(type="ping")
        return self.until("pong")[:-1]

    def drain(self, seconds: float = QUIET_SECONDS) -> list[dict]:
        """Every frame that arrives within `seconds` (none expected, usually)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.recv(timeout=left))
            except (TimeoutError, ConnectionClosed):
                break
        return got

    def wait_closed(self, timeout: float = 5, since: float | None = None) -> Closed:
        """Waits for the server to close the socket; `seconds` counts from `since` (default: now)."""
        started = time.monotonic() if since is None else since
        got = []
        while True:
            try:
                got.append(self.recv(timeout=timeout))
            except ConnectionClosed as closed:
                self.closed_code = closed.rcvd.code if closed.rcvd else 1006
                return Closed(self.closed_code, got, time.monotonic() - started)
            except TimeoutError:
                return Closed(None, got, time.monotonic() - started)

    def close(self) -> None:
        self._stack.close()
        Socket.still_open.discard(self)


# Signing in ---------------------------------------------------------------------------------


class WebSession:
    """A browser without JavaScript, signed in through the login page: its cookies, the CSRF
    token for forms, and sockets that ride the session cookie."""

    def __init__(self, server):
        self.server = server
        self.cookies: dict[str, str] = {}

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            response = opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0":  # deleted (a session that ended): a browser sends it no more
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, response.read().decode(errors="replace")

    def get(self, path: str) -> int:
        """The status of `path` itself (no redirects followed: 302 to the login page once signed out)."""
        return self._open(urllib.request.Request(self.server.url + path))[0]

    def post_form(self, path: str, fields: dict | list) -> int:
        """Posts a form with the CSRF token, as the page's own form would; the status (no redirects followed)."""
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        data = urlencode([*items, ("csrfmiddlewaretoken", self.cookies["csrftoken"])]).encode()
        request = urllib.request.Request(self.server.url + path, data=data, method="POST")
        request.add_header("Referer", self.server.url + path)
        return self._open(request)[0]

    @property
    def session_key(self) -> str:
        """The session cookie now: the server may replace it (a password change) or delete it (a logout)."""
        return self.cookies["sessionid"]

    def socket(self) -> Socket:
        return session_socket(self.server, self.session_key)


def session_socket(server, session_key: str) -> Socket:
    """A socket opened the way the pages open theirs: the session cookie, from the site's origin.
    With the key of a session that has ended, it asks what a browser still holding it would get."""
    return Socket.open(server, origin=server.url, additional_headers={"Cookie": f"sessionid={session_key}"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log_in(where, user, password: str = PASSWORD):
    """Signs `user` in through the login page.

    `where` is a Playwright page (it fills the form, and waits for home to show the user
    signed in; the page is returned) or a live server (a `WebSession` is returned).
    """
    if hasattr(where, "ws_url"):
        session = WebSession(where)
        assert session.get("/login/") == 200
        signed_in = session.post_form("/login/", {"username": user.username, "password": password})
        assert signed_in == 302 and "sessionid" in session.cookies, f"login as {user.username}: {signed_in}"
        return session
    where.goto("/login/")
    where.get_by_label("Username").fill(user.username)
    where.get_by_label("Password").fill(password)
    where.get_by_role("button", name="Log in").click()
    # The "Me" tab, named "Me, @username" (the words after the comma are for screen readers only).
    me_tab = re.compile(rf"(^|\s)@{re.escape(user.username)}$")
    where.get_by_role("navigation", name="Main").get_by_role("link", name=me_tab).wait_for()
    # The page's stylesheets and scripts too: before them, what CSS hides (the feed's "new posts"
    # button) still counts as visible.
    where.wait_for_load_state("load")
    return where
