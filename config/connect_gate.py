"""At most WS_CONNECTS_AT_ONCE WebSocket handshakes of a worker are worked on at a time; the others wait their turn.

After a restart or a network blip every client reconnects at once. Each handshake takes a few
hops through the one thread that runs database calls (authentication, presence), and those hops
queue in arrival order: with thousands of handshakes in progress together each advances one hop
per round, so they all finish late, together, past daphne's handshake deadline; daphne then
drops them and the clients come back for another round (measured in bench/RESULTS.md, "Connect
storm": more retries than clients). Let in a few at a time, each handshake finishes in a few
milliseconds, in the order the clients came, and the ones waiting cost nothing but their socket.

The gate wraps everything the handshake does (authentication included) and opens again when the
application accepts or closes the socket, or ends.
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

        async def answered(message):
            if message["type"] in ("websocket.accept", "websocket.close"):
                release()
            await send(message)

        try:
            return await self.inner(scope, receive, answered)
        finally:
            release()
