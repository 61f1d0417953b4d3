"""A small synchronous WebSocket client for tests against a live daphne."""

import json
import time
import urllib.request
from collections.abc import Iterable
from contextlib import ExitStack, contextmanager

from websockets.sync.client import connect


class SocketClient:
    def __init__(self, url: str, token: str, **options):
        """`options` go to websockets' connect (say `max_queue=1` and a `sock` for a client that stalls)."""
        self._stack = ExitStack()
        self.socket = self._stack.enter_context(connect(f"{url}?token={token}", open_timeout=5, **options))
        self.last_seq = 0
        self.skipped: list[dict] = []

    def send(self, **frame) -> None:
        self.socket.send(json.dumps(frame))

    def recv(self, timeout: float = 5) -> dict:
        frame = json.loads(self.socket.recv(timeout=timeout))
        if "seq" in frame:
            self.last_seq = max(self.last_seq, frame["seq"])
        return frame

    def expect(self, frame_type: str, timeout: float = 5, *, skip: Iterable[str] | None = None, **match) -> dict:
        """The next frame of this type (with `message` fields matching `match`, if given).

        With `skip`, every frame before it must be of a type named there, or the test fails:
        `expect("pong", skip=["presence"])` after a ping asserts that no event came before the
        pong. Without `skip` (older tests), other frames are passed over but kept in
        `skipped`, where a test can still look at them; new tests name what they skip.
        """
        while True:
            frame = self.recv(timeout)
            message = frame.get("message") or {}
            if frame["type"] == frame_type and all(message.get(k) == v for k, v in match.items()):
                return frame
            if frame["type"] == "error" or (skip is not None and frame["type"] not in skip):
                raise AssertionError(f"expected {frame_type} {match or ''}, got {frame}")
            self.skipped.append(frame)

    def frames_until(self, frame_type: str, timeout: float = 5) -> tuple[list[dict], dict]:
        """Every frame up to the first of `frame_type`: (the ones before it, that one)."""
        before = []
        while (frame := self.recv(timeout))["type"] != frame_type:
            before.append(frame)
        return before, frame

    def quiet(self, seconds: float = 0.5) -> list[dict]:
        """Every frame that arrives within `seconds` (a test that expects none asserts it is empty)."""
        got, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.recv(timeout=left))
            except TimeoutError:
                break
        return got

    def close(self) -> None:
        self._stack.close()


def rest_call(server, user, method: str, path: str, body: dict | None = None) -> dict | None:
    """A REST request to the live daphne as `user`, so its pushes go through the server's own layer."""
    from accounts.services import token_for

    request = urllib.request.Request(
        f"{server.url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Token {token_for(user=user).key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        content = response.read()
    return json.loads(content) if content else None


@contextmanager
def own_daphne(**settings_env: str):
    """A daphne of its own on the test database, with some settings changed through its environment
    (small limits, so a test reaches them in a few frames). Its cache is its own, too."""
    from tests.conftest import LiveDaphne, daphne_env

    server = LiveDaphne({**daphne_env(), **settings_env})
    server.start()
    try:
        yield server
    finally:
        server.stop()
