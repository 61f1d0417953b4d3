"""Compatibility only, to be removed once no test imports it: the socket client and the REST
helper are in tests/live.py (`Socket`, `rest`)."""

from websockets.sync.client import connect

from tests.live import Socket, rest


class SocketClient(Socket):
    """`Socket` opened from a URL and a token key; its `expect` reads every frame (see Socket)."""

    def __init__(self, url: str, token: str, **options):
        super().__init__(connect(f"{url}?token={token}", open_timeout=5, **options))


def rest_call(server, user, method: str, path: str, body: dict | None = None):
    """The JSON of a REST call that must succeed: `rest(...).json()`."""
    return rest(server, user, method, path, body).json()
