"""daphne, with deadlines for reading a request's headers and its body: `python -m config.serve`.

Stock daphne (4.2) cannot bound a slow client. Its `--http-timeout` starts counting only once
the whole request has arrived (it limits the application, not the client); Twisted's HTTPChannel
idle timeout (60 s, which daphne offers no flag for) starts again at every byte received, so a
client sending one byte every 10 s holds a connection, and a request slot, for as long as it
likes. `--websocket_connect_timeout` only bounds the time the application takes to accept a
socket whose upgrade request has already arrived.

This entry point takes daphne's own flags, plus:

    --http-header-timeout S   the request line and headers must all arrive within S seconds of
                              the connection opening (or of the previous response, on a kept-alive
                              connection)
    --http-body-timeout S     the whole body must arrive within S seconds of the headers

Past either, a client that had started a request gets `408 Request Timeout` and the connection
is closed; an idle kept-alive connection is closed without a word, as nginx does. Once the
request is in, neither applies: the application's time is `--http-timeout`'s.

And a POST body goes to the application as it came: Twisted's Request would first parse a form or
multipart body into `request.args` (which daphne never reads), on the reactor thread: a 20 MB photo
upload copied and parsed there holds up every other connection and socket of the worker, and a
malformed multipart body got Twisted's bare 400 instead of the API's JSON one.
"""

import gc
import socket
import sys
from functools import partial
from http import HTTPStatus
from pprint import pformat

from autobahn import util as autobahn_util
from autobahn.twisted import websocket as autobahn_twisted
from autobahn.websocket import protocol as autobahn_protocol
from autobahn.websocket.types import ConnectionDeny
from daphne import server as daphne_server
from daphne import ws_protocol as daphne_ws_protocol
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from twisted.web import http

DEFAULT_HEADER_TIMEOUT = 10.0
LISTEN_BACKLOG = 4096
DEFAULT_BODY_TIMEOUT = 30.0
# Retry-After of a handshake not answered by the deadline, where the application has no connect gate.
OVERDUE_RETRY_AFTER = 5

REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 32\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"The request took too long to send"
)


class DeadlineHTTPChannel(http.HTTPChannel):
    """Twisted's HTTP/1.1 channel, with one deadline at a time: for the headers, then for the body."""

    def __init__(self, header_timeout: float, body_timeout: float):
        super().__init__()
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self._deadline = None
        self._request_started = False  # a byte of the request under the header deadline has arrived

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds and seconds > 0:
            self._deadline = self.callLater(seconds, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if not self._request_started and self._unread():
            # The request is here, unread: the worker is late, not the client (a reconnect storm's
            # backlog). It gets read and answered (the socket, or the connect gate's 503), not closed
            # without a word as an idle connection is.
            self._arm(self.header_timeout)
            return
        if self._request_started:
            self.transport.write(REQUEST_TIMEOUT_RESPONSE)
        # Twisted's own way out: close once the write is flushed, abort if the peer will not read.
        self.timeoutConnection()

    def _unread(self) -> bool:
        """Whether bytes from the client wait in the socket, not yet read by the worker."""
        try:
            return bool(self.transport.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (AttributeError, OSError):  # none waiting (BlockingIOError), or not a TCP socket
            return False

    def connectionMade(self):  # noqa: N802  (Twisted's name)
        super().connectionMade()
        self._request_started = False
        self._arm(self.header_timeout)

    def dataReceived(self, data):  # noqa: N802  (Twisted's name)
        if data:
            self._request_started = True
        super().dataReceived(data)

    def allHeadersReceived(self):  # noqa: N802  (Twisted's name)
        super().allHeadersReceived()
        self._arm(self.body_timeout)

    def allContentReceived(self):  # noqa: N802  (Twisted's name)
        self._disarm()
        super().allContentReceived()

    def requestDone(self, request):  # noqa: N802  (Twisted's name)
        if self.persistent:
            # Armed first: a pipelined request already buffered is read inside requestDone.
            self._request_started = False
            self._arm(self.header_timeout)
        super().requestDone(request)

    def connectionLost(self, reason):  # noqa: N802  (Twisted's name)
        self._disarm()
        super().connectionLost(reason)


class UnparsedBodyWebRequest(WebRequest):
    """daphne's request, its body left unparsed by Twisted (the application parses it).

    And a WebSocket handshake the application's connect gate would refuse (config/connect_gate.py:
    more waiting than it can let in before the deadline) gets its 503 here, as soon as its headers
    are read: daphne would first build the socket's protocol, have autobahn read the request a
    second time and start the application, only for the gate to refuse it (measured: 0.20 ms of
    worker CPU per refused handshake here, 0.35 ms that way; bench/RESULTS.md, "third pass")."""

    def __init__(self, *args, **kwargs):
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(*args, **kwargs)

    def process(self):
        upgrade = self.requestHeaders.getRawHeaders(b"upgrade")
        if upgrade and upgrade[0].lower() == b"websocket":
            gate = sys.modules.get("config.connect_gate")  # only where the application uses the gate
            retry_after = gate.refusal() if gate is not None else None
            if retry_after is not None:
                self.handle_reply(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"retry-after", str(retry_after).encode()), (b"content-type", b"text/plain")],
                    }
                )
                self.handle_reply({"type": "http.response.body", "body": gate.REFUSAL_TEXT})
                return None
        return super().process()


class DeadlineHTTPFactory(HTTPFactory):
    """daphne's HTTP factory building DeadlineHTTPChannels (HTTP/1.1 only, as daphne serves without TLS)."""

    def protocol(self):
        return DeadlineHTTPChannel(self.server.http_header_timeout, self.server.http_body_timeout)

    def buildProtocol(self, addr):  # noqa: N802  (Twisted's name)
        channel = super().buildProtocol(addr)
        channel.requestFactory = UnparsedBodyWebRequest
        return channel


class DenyingWebSocketProtocol(daphne_ws_protocol.WebSocketProtocol):
    """daphne's WebSocket protocol, which can also answer a handshake with an HTTP response of the
    application's (ASGI's WebSocket Denial Response: `websocket.http.response.start`, then
    `websocket.http.response.body`), where daphne 4.2 only knows "close before accept" (403). The
    connect gate refuses handshakes with 503 and Retry-After this way (config/connect_gate.py).
    The status and headers are sent; the body is not (autobahn's refusal carries none)."""

    denial: dict | None = None
    denial_headers: list[tuple[str, str]] | None = None

    def handle_reply(self, message):
        kind = message.get("type")
        if kind == "websocket.http.response.start" and self.state == self.STATE_CONNECTING:
            self.denial = message
        elif kind == "websocket.http.response.body" and self.denial is not None:
            if not message.get("more_body") and hasattr(self, "handshake_deferred"):
                self._deny(self.denial)
        else:
            super().handle_reply(message)

    def _deny(self, start: dict) -> None:
        status = int(start["status"])
        self.denial_headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in start["headers"]]
        # As daphne's own refusal (serverReject), with the application's status; autobahn then calls
        # failHandshake, which sends it with the headers kept here.
        self.handshake_deferred.errback(ConnectionDeny(code=status, reason=HTTPStatus(status).phrase))
        del self.handshake_deferred
        self.server.protocol_disconnected(self)

    def failHandshake(self, reason, code=400, responseHeaders=None):  # noqa: N802, N803  (autobahn's names)
        super().failHandshake(reason, code, responseHeaders or self.denial_headers)

    # A handshake the application has not answered by the deadline (`--websocket_connect_timeout`:
    # under a reconnect storm, one that waited too long at the connect gate or behind the database
    # thread) gets 503 and Retry-After, as the gate's refusals do. autobahn's own timer (daphne sets
    # it to the same deadline, and it fires first) would drop the connection without a word: the
    # client saw "no valid HTTP response" (1,433 of 10,000 clients in one storm on PostgreSQL +
    # Redis, bench/RESULTS.md); daphne's own check, a moment later, would answer 403 as if refused
    # for good. Either way the client only retries; with a 503 it knows why, and when.
    def onOpenHandshakeTimeout(self):  # noqa: N802  (autobahn's name)
        if self._awaiting_application():
            self.openHandshakeTimeoutCall = None
            self._overdue()
        else:  # the request itself is not in yet (daphne hands over whole requests: not expected)
            super().onOpenHandshakeTimeout()

    def check_timeouts(self):
        if self._awaiting_application() and self.duration() > self.server.websocket_connect_timeout:
            self._overdue()
        super().check_timeouts()

    def _awaiting_application(self) -> bool:
        return self.state == self.STATE_CONNECTING and hasattr(self, "handshake_deferred")

    def _overdue(self) -> None:
        gate = sys.modules.get("config.connect_gate")  # the queue's drain time, where the gate is used
        retry_after = gate.retry_after() if gate is not None else OVERDUE_RETRY_AFTER
        self._deny({"status": 503, "headers": [(b"retry-after", str(retry_after).encode())]})


class _FormattedOnlyIfLogged:
    """pformat's text, made only when a log line is written with it."""

    def __init__(self, value):
        self.value = value

    def __format__(self, spec):
        return format(pformat(self.value), spec)

    def __str__(self):
        return pformat(self.value)

    __repr__ = __str__


class _HighlightedOnlyIfLogged:
    """autobahn's coloured text for a log line (`highlight(value)`), made only when the line is written."""

    def __init__(self, highlight, value):
        self.highlight = highlight
        self.value = value

    def __format__(self, spec):
        return format(self.highlight(self.value), spec)

    def __str__(self):
        return self.highlight(self.value)

    __repr__ = __str__


def _quiet_handshake_debug() -> None:
    """autobahn pretty-prints every new socket's forty settings for a debug line that is not
    written (daphne never turns autobahn's debug on): measured, a fifth of a worker's time while
    thousands of clients reconnected at once (bench/RESULTS.md, "Connect storm"). The text is
    now made when, and only if, the line is written. (The module's one other use, Timings'
    __str__, must return a string: it keeps the real pformat.)"""
    autobahn_protocol.Timings.__str__ = lambda timings: pformat(timings._timings)
    autobahn_protocol.pformat = _FormattedOnlyIfLogged
    # The same for the names and values it colours (click.style) for debug lines on every frame
    # sent or received and at each step of a handshake: about forty per socket that connects and
    # resumes. Each use is a keyword argument of a log call, which formats it only if it writes.
    for module in (autobahn_protocol, autobahn_twisted):
        module.hltype = partial(_HighlightedOnlyIfLogged, autobahn_util.hltype)
        module.hlval = partial(_HighlightedOnlyIfLogged, autobahn_util.hlval)


def _warm_up() -> None:
    """Done before the port opens, so the first clients after a restart (all of them, in a
    reconnect storm) do not wait for it, and so it is done once:

    - The caches, made in this thread's context, which every connection's task and every thread
      call then inherits. Django keeps a cache object per context: made first inside a socket's
      task, each socket got its own, and with Redis its own connection pool, so each connect
      opened a new connection to Redis.
    - The URL configuration: every app's URLs and views imported and the reverse tables built
      (the first avatar URL of a replay did it, measured at about half a second of the storm).
    - Then everything made so far (modules, classes, Django's registries: some hundreds of thousands
      of objects that live as long as the process) is taken out of the garbage collector's view.
      Each full collection walked all of it again: measured, 2.1 s of a 9.6 s storm's worker CPU
      (2,000 clients) went to seven of them."""
    from django.conf import settings

    if not settings.configured:  # an application that is not Tandem's
        return
    from django.core.cache import caches
    from django.urls import get_resolver

    for alias in settings.CACHES:
        caches[alias]
    get_resolver().reverse_dict  # noqa: B018 (read for its side effect: the tables are built)
    gc.collect()  # what start-up left unreachable is freed, not frozen
    gc.freeze()
    # Young collections every 7,000 allocations (not 700). Full ones after 100 middle-aged collections
    # (not 10), and still only once the objects that survived to the oldest generation since the last
    # full one are a quarter of it (CPython's own rule): with 10,000 sockets open, each full collection
    # walks every socket's objects, and a storm's new sockets called for several (measured, a
    # 10,000-client storm: 22.5 -> 17.9 s of worker CPU, back in 24.9 -> 19.6 s; bench/RESULTS.md).
    # Cycles in the oldest generation are still freed, less often.
    gc.set_threshold(7000, 10, 100)


def _checkpoints_beside_the_commits() -> None:
    from django.conf import settings

    if not settings.configured:  # an application that is not Tandem's
        return
    from common.sqlite_checkpoints import start_sqlite_checkpoints

    start_sqlite_checkpoints()


class DeadlineServer(Server):
    """daphne's server, keeping the two deadlines for the channels its factory builds."""

    def __init__(self, *args, http_header_timeout: float, http_body_timeout: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.http_header_timeout = http_header_timeout
        self.http_body_timeout = http_body_timeout
        # Twisted listens with a backlog of 50 connections not yet accepted. After a restart every
        # client connects at once: past 50 the kernel drops their SYNs and each retries only after
        # 1, 3, 7, 15, 31 s (measured: 6 of 10,000 clients gave up a 60 s open and came back, the
        # storm's last minute). The kernel caps what is asked at net.core.somaxconn.
        self.endpoints = [
            f"{endpoint}:backlog={LISTEN_BACKLOG}"
            if endpoint.startswith("tcp:") and ":backlog=" not in endpoint
            else endpoint
            for endpoint in self.endpoints
        ]

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket":  # the application may refuse a handshake with a response
            scope["extensions"] = {**scope.get("extensions", {}), "websocket.http.response": {}}
        return super().create_application(protocol, scope)

    def run(self):
        # Server.run builds its factory from this module-level name; nothing else reads it.
        daphne_server.HTTPFactory = DeadlineHTTPFactory
        daphne_ws_protocol.WebSocketFactory.protocol = DenyingWebSocketProtocol
        _quiet_handshake_debug()
        _warm_up()
        _checkpoints_beside_the_commits()
        super().run()


class DeadlineCommandLineInterface(CommandLineInterface):
    """daphne's command line, plus --http-header-timeout and --http-body-timeout."""

    def __init__(self):
        super().__init__()
        self.parser.add_argument(
            "--http-header-timeout",
            type=float,
            default=DEFAULT_HEADER_TIMEOUT,
            help="Seconds for a request line and headers to arrive (0: no limit)",
        )
        self.parser.add_argument(
            "--http-body-timeout",
            type=float,
            default=DEFAULT_BODY_TIMEOUT,
            help="Seconds for a request body to arrive once its headers have (0: no limit)",
        )

    def run(self, args):
        deadlines = self.parser.parse_args(args)
        # daphne's run() builds the server with its own keyword arguments; these two join them.
        self.server_class = partial(
            DeadlineServer,
            http_header_timeout=deadlines.http_header_timeout,
            http_body_timeout=deadlines.http_body_timeout,
        )
        super().run(args)


if __name__ == "__main__":
    DeadlineCommandLineInterface.entrypoint()
