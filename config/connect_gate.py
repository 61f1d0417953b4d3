"""At most WS_CONNECTS_AT_ONCE WebSocket handshakes of a worker are worked on at a time; the others wait their turn,
and past what can be let in before daphne's deadline, new ones are refused at once with HTTP 503.

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

A queue longer than the worker can let in within WS_CONNECT_WAIT_MOST seconds (at the pace it has
been letting handshakes in while some waited) would only fill up with handshakes that daphne then
drops at its deadline (30 s, `--websocket_connect_timeout`), each client finding out half a minute
late and coming back into the same queue. So a handshake arriving then is answered at once with
`503 Service Unavailable` and `Retry-After` (the seconds the queue needs to drain), before anything
else is done for it: its client backs off with jitter and comes back (static/js/socket.js), and the
ones already waiting keep their turn. Up to WS_CONNECTS_WAITING_FREE wait whatever the pace (it is
unknown in the first instants after a start). A server that cannot send an HTTP response to a
handshake (one without ASGI's `websocket.http.response` extension) closes it instead: daphne's 403.
"""

import asyncio
import math
import time
import weakref

from django.conf import settings

# How much the pace moves with each handshake let in while others wait (an exponential average).
PACE_WEIGHT = 0.05
# Answers (while others waited) before the pace is trusted. In the first instants of a storm the
# loop is busy reading the arrivals' handshakes and lets few in: a pace measured then is the
# arrivals', not the worker's (measured: 372 of 2,000 clients refused on PostgreSQL + Redis, for
# a queue that then drained in 8 s; after 64 answers, still 60: so WS_CONNECTS_WAITING_FREE is 2,048
# and WS_CONNECT_WAIT_MOST 25 s, against daphne's 30 s).
PACE_ANSWERS_TRUSTED = 64
RETRY_AFTER_MOST = 30


class _Gate:
    """One event loop's gate: the handshakes worked on, those waiting, and the pace they get in at."""

    def __init__(self):
        self.semaphore = asyncio.Semaphore(settings.WS_CONNECTS_AT_ONCE)
        self.waiting = 0
        self.seconds_per_answer: float | None = None  # between answers, while handshakes waited
        self.answered_at: float | None = None  # the last answer's time, if others waited then
        self.paced = 0  # answers the pace was measured over

    def answered(self) -> None:
        """A handshake got its answer (accept or close): the pace, measured only while others wait
        (an idle worker's gaps between clients say nothing about how fast it lets them in)."""
        now = time.monotonic()
        if self.waiting == 0:
            self.answered_at = None
            return
        if self.answered_at is not None:
            gap = now - self.answered_at
            pace = self.seconds_per_answer
            self.seconds_per_answer = gap if pace is None else pace + PACE_WEIGHT * (gap - pace)
            self.paced += 1
        self.answered_at = now

    def seconds_to_drain(self) -> float | None:
        if self.seconds_per_answer is None:
            return None
        return self.waiting * self.seconds_per_answer

    def full(self) -> bool:
        if self.waiting < settings.WS_CONNECTS_WAITING_FREE:
            return False
        drain = self.seconds_to_drain()
        return self.paced >= PACE_ANSWERS_TRUSTED and drain is not None and drain > settings.WS_CONNECT_WAIT_MOST


_gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gate]" = weakref.WeakKeyDictionary()


def _gate() -> _Gate:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = _Gate()
    return _gates[loop]


class ConnectGate:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        gate = _gate()
        if gate.full():
            return await _refuse(scope, send, gate)
        gate.waiting += 1
        try:
            await gate.semaphore.acquire()
        finally:
            gate.waiting -= 1
        held = True

        def release(answered: bool = False) -> None:
            nonlocal held
            if held:
                held = False
                if answered:
                    gate.answered()
                gate.semaphore.release()

        try:
            if _gone_while_waiting(receive):
                return None
            return await self.inner(scope, receive, _Answering(send, release).send)
        finally:
            release()


REFUSAL_TEXT = b"Too many connections at once; retry later."


def refusal() -> int | None:
    """The Retry-After (seconds) a handshake arriving now is refused with, or None if it may wait its
    turn. config.serve asks before daphne builds anything for the handshake (the cheapest refusal);
    the gate asks again itself, for servers that do not."""
    gate = _gate()
    return _retry_after(gate) if gate.full() else None


def retry_after() -> int:
    """The Retry-After (seconds) for a handshake refused now whatever the gate's state: the seconds
    those waiting need to get in at the recent pace (1 to RETRY_AFTER_MOST). config.serve answers
    a handshake the application did not answer before daphne's deadline with it."""
    return _retry_after(_gate())


def _retry_after(gate: _Gate) -> int:
    return min(RETRY_AFTER_MOST, max(1, math.ceil(gate.seconds_to_drain() or 1)))


async def _refuse(scope, send, gate: _Gate) -> None:
    """503 with Retry-After, before the application sees the handshake (daphne's 403 where the server
    cannot send a response to a handshake)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close"})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 503,
            "headers": [(b"retry-after", str(_retry_after(gate)).encode()), (b"content-type", b"text/plain")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": REFUSAL_TEXT})


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
            self.release(answered=True)
        await self.real_send(message)
