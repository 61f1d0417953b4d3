"""config.serve's header deadline closes an idle connection without a word, but not one whose request
has come and waits unread in its socket: there the worker is late (a reconnect storm's backlog of
thousands of handshakes), not the client, and closing it left the client with no HTTP answer at all."""

import socket

from twisted.internet import task
from twisted.internet.testing import StringTransport
from twisted.web import http

from config.serve import DeadlineHTTPChannel

DEADLINE = 10.0


class _Answered(http.Request):
    def process(self):
        self.setResponseCode(200)
        self.write(b"ok")
        self.finish()


def _channel(server_side: socket.socket) -> tuple[DeadlineHTTPChannel, StringTransport, task.Clock]:
    clock = task.Clock()
    channel = DeadlineHTTPChannel(header_timeout=DEADLINE, body_timeout=DEADLINE)
    channel.callLater = clock.callLater
    channel.requestFactory = _Answered
    transport = StringTransport()
    transport.socket = server_side  # what the deadline looks at, as on a TCP transport
    channel.makeConnection(transport)
    return channel, transport, clock


def test_an_idle_connection_is_closed_at_the_header_deadline_without_a_word():
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        _, transport, clock = _channel(server_side)
        clock.advance(DEADLINE + 1)
        assert transport.disconnecting
        assert transport.value() == b""


def test_a_request_waiting_unread_at_the_deadline_is_kept_to_be_read_and_answered():
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        channel, transport, clock = _channel(server_side)
        client_side.sendall(b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # not read by the worker yet
        clock.advance(DEADLINE + 1)
        assert not transport.disconnecting
        channel.dataReceived(server_side.recv(4096))  # read at last: answered
        assert transport.value().startswith(b"HTTP/1.1 200 ")
