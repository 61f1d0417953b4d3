"""Each worker watches its channel layer; after an outage its sockets reconnect and resume.

channels-redis does not tell a consumer that Redis went away and came back.
`RedisChannelLayer` keeps groups in Redis, so a restarted Redis has forgotten every
group and the sockets silently stop getting pushes; the pub/sub layer subscribes again
by itself, but what was published meanwhile is gone. Either way the events are stored
(a failed push never undoes a write), and a client gets them by `resume`, which it sends
after every reconnect. So each worker sends itself a probe through a group every
PROBE_INTERVAL seconds; once a probe fails (or a push, or a socket's receive), the layer
counts as down, and when probes come back again every socket of the worker is told to close
(4012): its client reconnects, joins its group again and resumes.
"""

import asyncio
import itertools
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable

from channels.layers import BaseChannelLayer, InMemoryChannelLayer

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis comes with channels-redis
    RedisError = OSError

PROBE_INTERVAL = 0.5
PROBE_TIMEOUT = 5.0
# What a channel layer or the Redis cache raises when it cannot reach Redis (a timeout,
# asyncio's included, is an OSError).
LAYER_ERRORS = (OSError, RedisError)

logger = logging.getLogger(__name__)

# Set from any thread of the process when a push fails (see realtime.services._push).
_failed_at = 0.0


def report_failure() -> None:
    global _failed_at
    _failed_at = time.monotonic()


class LayerWatch:
    def __init__(self, layer: BaseChannelLayer):
        self.layer = layer
        self.listeners: weakref.WeakSet = weakref.WeakSet()
        self.down = False
        self.checked_at = time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        group = f"layer-watch.{uuid.uuid4().hex}"
        channel = None
        for number in itertools.count():
            await asyncio.sleep(PROBE_INTERVAL)
            try:
                channel = channel or await self.layer.new_channel()
                # Added every round: a restarted Redis has forgotten the group.
                await self.layer.group_add(group, channel)
                await self.layer.group_send(group, {"type": "layer.probe", "number": number})
                await asyncio.wait_for(self._probe_back(channel, number), PROBE_TIMEOUT)
            except TimeoutError:
                # A late probe means a busy worker, not a lost layer: closing every socket then
                # would only add a storm of reconnects. A Redis that went away shows as errors
                # (here, in pushes, in the sockets' receives). The pub/sub layer drops a channel
                # whose receive was cancelled: start afresh.
                channel = None
                continue
            except LAYER_ERRORS as error:
                channel = None
                if not self.down:
                    logger.warning("Channel layer unreachable (%s); sockets will resume once it is back", error)
                self.down = True
                continue
            if _failed_at > self.checked_at:
                self.down = True  # a push failed between two probes
            self.checked_at = time.monotonic()
            if self.down:
                self.down = False
                logger.warning("Channel layer back; closing %d sockets so they resume", len(self.listeners))
                # A socket that closed meanwhile may fail to close again; the others still must.
                await asyncio.gather(
                    *(listener.close_for_layer() for listener in self.listeners), return_exceptions=True
                )

    async def _probe_back(self, channel: str, number: int) -> None:
        while (await self.layer.receive(channel)).get("number") != number:
            pass


_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch]" = weakref.WeakKeyDictionary()


def watch_layer(layer: BaseChannelLayer, listener) -> None:
    """Calls `await listener.close_for_layer()` after the next outage of `layer` (not for the in-memory one)."""
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return
    loop = asyncio.get_running_loop()
    if loop not in _watches:
        _watches[loop] = LayerWatch(layer)
    _watches[loop].listeners.add(listener)


def guard_receive(receive: Callable[[], Awaitable[dict]], on_failure: Callable[[], Awaitable[None]]):
    """Wraps a consumer's channel receive: a layer failure runs `on_failure` instead of crashing the consumer."""

    async def guarded() -> dict:
        try:
            return await receive()
        except LAYER_ERRORS as error:
            logger.warning("Channel layer receive failed (%s)", error)
            report_failure()
            await on_failure()
            # The consumer is closing; the websocket's disconnect ends it and cancels this wait.
            await asyncio.Event().wait()

    return guarded
