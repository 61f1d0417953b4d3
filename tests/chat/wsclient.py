"""A small synchronous WebSocket client for tests against a live daphne."""

import json
import urllib.request
from contextlib import ExitStack

from websockets.sync.client import connect


class SocketClient:
    def __init__(self, url: str, token: str, **options):
        """`options` go to websockets' connect (say `max_queue=1` and a `sock` for a client that stalls)."""
        self._stack = ExitStack()
        self.socket = self._stack.enter_context(connect(f"{url}?token={token}", open_timeout=5, **options))
        self.last_seq = 0

    def send(self, **frame) -> None:
        self.socket.send(json.dumps(frame))

    def recv(self, timeout: float = 5) -> dict:
        frame = json.loads(self.socket.recv(timeout=timeout))
        if "seq" in frame:
            self.last_seq = max(self.last_seq, frame["seq"])
        return frame

    def expect(self, frame_type: str, timeout: float = 5, **match) -> dict:
        """The next frame of this type (whose `message` fields match); others before it are skipped."""
        while True:
            frame = self.recv(timeout)
            message = frame.get("message") or {}
            if frame["type"] == "error" and frame_type != "error":
                raise AssertionError(f"expected {frame_type}, got {frame}")
            if frame["type"] == frame_type and all(message.get(k) == v for k, v in match.items()):
                return frame

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
