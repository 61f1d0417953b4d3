"""Compatibility only, to be removed once no test imports it: the socket client, the REST helper
and `own_daphne` are in tests/live.py (`Socket`, `rest`, `own_daphne`)."""

from websockets.sync.client import connect

from tests.live import Socket, frame_is, own_daphne, rest

__all__ = ["SocketClient", "own_daphne", "rest_call"]


class SocketClient(Socket):
    """`Socket` opened from a URL and a token key.

    `expect(type, skip=[...])` is Socket's: every frame before it must be of a type named in
    `skip` (those are kept in `skipped` too). Without `skip` (the older tests), frames of other
    types are passed over and kept in `skipped` (an error frame still fails); new tests use
    tests.live.Socket, whose `expect` always reads every frame.
    """

    def __init__(self, url: str, token: str, **options):
        super().__init__(connect(f"{url}?token={token}", open_timeout=5, **options))
        self.skipped: list[dict] = []

    @property
    def socket(self):
        return self.connection

    def expect(self, frame_type: str, timeout: float = 5, *, skip=None, **match) -> dict:
        if skip is not None:
            start = len(self.frames)
            frame = super().expect(frame_type, timeout, skip=skip, **match)
            self.skipped += self.frames[start:-1]
            return frame
        while True:
            frame = self.recv(timeout)
            if frame_is(frame, frame_type, match):
                return frame
            if frame.get("type") == "error":
                raise AssertionError(f"expected {frame_type} {match or ''}, got {frame}")
            self.skipped.append(frame)

    def frames_until(self, frame_type: str, timeout: float = 5) -> tuple[list[dict], dict]:
        """Every frame up to the first of `frame_type`: (the ones before it, that one)."""
        got = self.until(frame_type, timeout)
        return got[:-1], got[-1]

    def quiet(self, seconds: float = 0.5) -> list[dict]:
        """Every frame that arrives within `seconds`."""
        return self.drain(seconds)


def rest_call(server, user, method: str, path: str, body: dict | None = None):
    """The JSON of a REST call that must succeed: `rest(...).json()`."""
    return rest(server, user, method, path, body).json()
