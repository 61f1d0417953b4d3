"""At most WS_CONNECTS_AT_ONCE WebSocket handshakes of a worker are worked on at a time; the others wait their turn.

After a restart or a network blip every client reconnects at once. Each handshake takes a few
hops through the one thread that runs database calls (authentication, presence), and those hops
queue in arrival order: with thousands of handshakes in progress together each advances one hop
per round, so they all finish late, together, past daphne's handshake deadline; daphne then
drops them and the clients come back for another round (measured in bench/RESULTS.md, "Connect
storm": more retries than clients). Let in a few at a time, each handshake finishes in a few
milliseconds, in the order the clients came, and the ones waiting cost nothing but their socket.

The gate wraps everything the handshake does (authentication included) and opens again when the
application accepts or closes the socket, or ends. A client that left while it waited (or whose
handshake daphne dropped at its deadline) is not worked on at all.
"""

import asyncio
import weakref

from django.conf import settings

_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(settings.WS_CONNECTS_AT_ONCE)
    return _gates[loop]


class ConnectGate:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        gate = _gate()
        await gate.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                gate.release()

        try:
            if _gone_while_waiting(receive):
                return None
            return await self.inner(scope, receive, _Answering(send, release).send)
        finally:
            release()


def _gone_while_waiting(receive) -> bool:
    """Whether the client went away (or daphne gave up on its handshake) while it waited at the
    gate: then nothing is worth doing for it. Daphne's `receive` is its input queue's `get`; the
    disconnect waits in that queue, behind the connect, so it is read without taking anything."""
    queue = getattr(receive, "__self__", None)
    waiting = getattr(queue, "_queue", None) if isinstance(queue, asyncio.Queue) else None
    return bool(waiting) and any(message.get("type") == "websocket.disconnect" for message in waiting)


class _Answering:
    """The application's `send`, opening the gate at the handshake's answer. The inner send is kept
    as `real_send`, as Channels' session middleware keeps it, so realtime.backpressure still finds
    daphne's protocol behind it."""

    def __init__(self, send, release):
        self.real_send = send
        self.release = release

    async def send(self, message):
        if message["type"] in ("websocket.accept", "websocket.close"):
            self.release()
        await self.real_send(message)
