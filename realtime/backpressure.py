"""How much a socket's server still holds to write to its client, so a consumer can wait for it to drain.

Daphne hands each frame straight to autobahn, which writes it to the Twisted transport:
`send()` returns at once, and a client that does not read makes the transport's write
buffer grow without bound in the worker's memory. Twisted keeps that buffer as
`dataBuffer` (from `offset` on) plus `_tempDataBuffer` (`_tempDataLen` bytes); autobahn
queues in `send_queue` only when asked to chop frames. `WriteBuffer` reads those, and
`drained` polls them (Twisted's producer API is taken: daphne's HTTP channel stays
registered as the transport's producer after the upgrade).

Under a server without a Twisted transport (Channels' WebsocketCommunicator in tests)
nothing is buffered in between, and the buffer reads as empty.
"""

import asyncio
import functools

# How often `drained` looks again.
POLL_SECONDS = 0.02


def _protocol_of(send):
    """Daphne's protocol behind an ASGI `send` (partial(server.handle_reply, protocol)), through the
    wrappers Channels' middleware puts around it (sessions keep the inner one as `real_send`)."""
    for _ in range(8):
        if isinstance(send, functools.partial):
            if send.args and hasattr(send.args[0], "transport"):
                return send.args[0]
            send = send.func
        elif hasattr(getattr(send, "__self__", None), "real_send"):
            send = send.__self__.real_send
        else:
            return None
    return None


class WriteBuffer:
    """The bytes a socket's server has accepted for its client but not yet handed to the kernel."""

    def __init__(self, send):
        self.protocol = _protocol_of(send)

    def pending(self) -> int:
        protocol = self.protocol
        transport = getattr(protocol, "transport", None)
        if transport is None:
            return 0
        held = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
        held += getattr(transport, "_tempDataLen", 0)
        queue = getattr(protocol, "send_queue", None)
        if queue:
            held += sum(len(data) for data, _ in queue)
        return held

    async def drained(self, below: int) -> None:
        """Returns once at most `below` bytes wait to be written (at once when nothing is held)."""
        while self.pending() > below:
            await asyncio.sleep(POLL_SECONDS)

    def close_within(self, seconds: float) -> None:
        """Gives the client `seconds` to read up to a close frame about to be sent before the
        connection is cut (autobahn's closing handshake timeout, 1 s by default, for this socket)."""
        if self.protocol is not None:
            self.protocol.closeHandshakeTimeout = seconds
