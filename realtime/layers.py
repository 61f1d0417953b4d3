"""The channel layers: the embedded default's in-memory one, with expiry that costs the same at any size,
and Redis pub/sub with many groups' pushes sent at once and the SUBSCRIBEs of many connects in one
command (`RedisPubSubChannelLayer`, at the end).

Channels' `InMemoryChannelLayer` looks for expired messages and group memberships by walking
every channel and every group on each `receive` and `group_send`. A socket's consumer calls
`receive` once when it opens and again after every message it gets, so with N sockets open
each connect and each push cost O(N): measured in-process (bench/RESULTS.md, "Connect storm"),
a connect's group join and first receive took 61 µs into an empty layer and 6.6 ms beside
9,000 open sockets, and a worker took connections at a third of its empty rate.

This subclass keeps the same data (`channels`, `groups`) and the same rules (a message expires
`expiry` seconds after it was sent and takes its channel out of every group; a membership expires
`group_expiry` seconds after the channel last joined), but finds what expired from the oldest
end of two queues, so a call that finds nothing expired does O(1) work:

- the channels holding messages, in a heap by the expiry of their oldest message (an entry that
  is out of date, because that message was received, is corrected when it reaches the top);
- the memberships in the order they were made (re-joining moves one to the end), plus each
  channel's groups, so an expired message leaves its channel's groups without a scan.

`group_send` copies the message once, not once per member: every member receives the same
read-only dict (consumers read their messages; none changes one).
"""

import asyncio
import contextlib
import heapq
from collections import OrderedDict
from copy import deepcopy
from time import monotonic

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer as ChannelsRedisPubSubChannelLayer
from channels_redis.pubsub import RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    def __init__(self, expiry=60, group_expiry=86400, capacity=100, channel_capacity=None, **kwargs):
        super().__init__(
            expiry=expiry, group_expiry=group_expiry, capacity=capacity, channel_capacity=channel_capacity, **kwargs
        )
        self._reset()

    def _reset(self) -> None:
        self.channels: dict[str, asyncio.Queue] = {}
        self.groups: dict[str, dict[str, float]] = {}
        # (expiry of the channel's oldest message when scheduled, channel); one entry per channel.
        self._expiries: list[tuple[float, str]] = []
        self._scheduled: set[str] = set()
        # (group, channel) -> when it joined, oldest first.
        self._joins: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._groups_of: dict[str, set[str]] = {}

    # Messages

    async def send(self, channel, message):
        if not isinstance(message, dict):
            raise TypeError("message is not a dict")
        self.require_valid_channel_name(channel)
        if "__asgi_channel__" in message:
            raise ValueError("a message may not name __asgi_channel__")
        self._put(channel, deepcopy(message))

    def _put(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        expires = monotonic() + self.expiry
        try:
            queue.put_nowait((expires, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None
        if channel not in self._scheduled:
            self._scheduled.add(channel)
            heapq.heappush(self._expiries, (expires, channel))

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            _, message = await queue.get()
        finally:
            # A receiver that was cancelled (its socket closed) leaves no empty queue behind.
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
        return message

    # Expiry

    def _clean_expired(self) -> None:
        now = monotonic()
        expiries = self._expiries
        while expiries and expiries[0][0] < now:
            _, channel = heapq.heappop(expiries)
            self._scheduled.discard(channel)
            queue = self.channels.get(channel)
            if queue is None:
                continue
            expired = False
            while not queue.empty() and queue._queue[0][0] < now:
                queue.get_nowait()
                expired = True
            if expired:
                # Nobody has been reading this channel for `expiry` seconds: it is gone.
                self._remove_from_groups(channel)
                if queue.empty():
                    del self.channels[channel]
            if not queue.empty():
                self._scheduled.add(channel)
                heapq.heappush(expiries, (queue._queue[0][0], channel))
        joins = self._joins
        oldest_kept = now - self.group_expiry
        while joins:
            (group, channel), joined = next(iter(joins.items()))
            if joined >= oldest_kept:
                break
            self._leave(group, channel)

    def _remove_from_groups(self, channel):
        for group in list(self._groups_of.get(channel, ())):
            self._leave(group, channel)

    # Groups

    async def group_add(self, group, channel):
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        now = monotonic()
        self.groups.setdefault(group, {})[channel] = now
        self._groups_of.setdefault(channel, set()).add(group)
        key = (group, channel)
        self._joins[key] = now
        self._joins.move_to_end(key)

    async def group_discard(self, group, channel):
        self.require_valid_channel_name(channel)
        self.require_valid_group_name(group)
        self._leave(group, channel)

    def _leave(self, group: str, channel: str) -> None:
        self._joins.pop((group, channel), None)
        members = self.groups.get(group)
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self.groups[group]
        groups = self._groups_of.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self._groups_of[channel]

    async def group_send(self, group, message):
        if not isinstance(message, dict):
            raise TypeError("message is not a dict")
        self.require_valid_group_name(group)
        self._clean_expired()
        members = self.groups.get(group)
        if not members:
            return
        shared = deepcopy(message)
        for channel in list(members):
            # As Channels' layer does: a full channel misses the push (its client resumes).
            with contextlib.suppress(ChannelFull):
                self._put(channel, shared)
        # And, as Channels' layer does (it awaits a task per member), let the members' consumers run:
        # a sender of many pushes in a row would otherwise fill a reading socket's channel past its
        # capacity before that socket could take one.
        await asyncio.sleep(0)

    async def flush(self):
        self._reset()


class _SubscribesTogether(RedisSingleShardConnection):
    """A shard's connection whose SUBSCRIBEs wait for the lock together: every channel asked for
    while one command is on its way goes in the next SUBSCRIBE, one command for all of them.

    Each socket's connect subscribes twice (its own channel, and its user's group unless another
    socket of the user holds it), and channels-redis sends each as a command of its own under the
    shard's lock: in a reconnect storm thousands queue there, one after another, each costing the
    event loop a command's encoding, write and lock hand-over (about 0.07 ms, against 0.007 ms a
    channel in a batch of 16; bench/RESULTS.md, "Connect storm: fourth pass").

    The order of a channel's subscribe and unsubscribe is kept: an unsubscribe of a channel still
    waiting to be subscribed waits for that first, as it waited for the lock before.
    """

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._to_subscribe: dict[str, asyncio.Future] = {}
        self._subscribing: asyncio.Task | None = None

    async def subscribe(self, channel):
        if channel in self._subscribed_to and not self._lock.locked():
            return  # what taking the free lock and looking would have found
        subscribed = self._to_subscribe.get(channel)
        if subscribed is None:
            subscribed = self._to_subscribe[channel] = asyncio.get_running_loop().create_future()
            # Read even when every waiter went away (its socket closed), so asyncio does not log it.
            subscribed.add_done_callback(lambda done: done.cancelled() or done.exception())
            if self._subscribing is None:
                self._subscribing = asyncio.ensure_future(self._subscribe_waiting())
        # Shielded: one waiter cancelled (its socket closed) does not cancel the others' subscribe.
        await asyncio.shield(subscribed)

    async def _subscribe_waiting(self) -> None:
        try:
            while self._to_subscribe:
                async with self._lock:  # one batch per turn of the lock: publishes queued meanwhile go next
                    batch, self._to_subscribe = self._to_subscribe, {}
                    channels = [channel for channel in batch if channel not in self._subscribed_to]
                    try:
                        if channels:
                            self._ensure_redis()
                            self._ensure_receiver()
                            await self._pubsub.subscribe(*channels)
                            self._subscribed_to.update(channels)
                    except Exception as error:
                        # Redis unreachable: each waiter gets the error its own command would have.
                        for subscribed in batch.values():
                            subscribed.set_exception(error)
                        continue
                    except BaseException:  # cancelled: the loop is closing
                        for subscribed in batch.values():
                            subscribed.cancel()
                        raise
                    for subscribed in batch.values():
                        subscribed.set_result(None)
        finally:
            self._subscribing = None

    async def unsubscribe(self, channel):
        subscribed = self._to_subscribe.get(channel)
        if subscribed is not None:
            with contextlib.suppress(Exception):  # a subscribe that failed leaves nothing to undo
                await asyncio.shield(subscribed)
        await super().unsubscribe(channel)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, *args, **kwargs):
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_SubscribesTogether(host, self) for host in decode_hosts(hosts)]


class RedisPubSubChannelLayer(ChannelsRedisPubSubChannelLayer):
    """channels-redis' pub/sub layer, plus `group_send_many`: many groups' messages in one Redis round
    trip per shard; and the SUBSCRIBEs of many connects in one command (`_SubscribesTogether`).

    Its `group_send` publishes under the shard's lock and waits for Redis's answer before the next
    may go, so the pushes of a batch of stored messages (two or more per message) went to Redis one
    round trip after another, however they were awaited (bench/RESULTS.md, "Chat: round trips, the
    pub/sub lock and the checkpoints"). `group_send_many` takes that lock once per shard and sends
    every PUBLISH in one pipeline, in the order given (each user's pushes keep their seq order).
    """

    def _get_layer(self):
        # channels-redis' own, with this module's loop layer (whose shards subscribe together).
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer

    async def group_send_many(self, sends: list[tuple[str, dict]]) -> None:
        layer = self._get_layer()
        by_shard: dict[int, tuple[object, list[tuple[str, bytes]]]] = {}
        for group, message in sends:
            channel = layer._get_group_channel_name(group)
            shard = layer._get_shard(channel)
            by_shard.setdefault(id(shard), (shard, []))[1].append((channel, self.serialize(message)))
        for shard, publications in by_shard.values():
            async with shard._lock:
                shard._ensure_redis()
                pipeline = shard._redis.pipeline(transaction=False)
                for channel, payload in publications:
                    pipeline.publish(channel, payload)
                await pipeline.execute()
