"""With REDIS_URL, the pub/sub layer (realtime.layers.RedisPubSubChannelLayer) sends a batch of pushes
to many groups at once: each member gets its groups' messages, in the order given, and no other."""

import asyncio
import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis layer runs with REDIS_URL")


def test_a_batch_of_pushes_to_many_groups_reaches_each_member_in_order():
    layer = get_channel_layer()

    async def scenario():
        a, b, c = [await layer.new_channel() for _ in range(3)]
        await layer.group_add("batch-one", a)
        await layer.group_add("batch-one", b)
        await layer.group_add("batch-two", c)
        try:
            await layer.group_send_many(
                [
                    ("batch-one", {"type": "push", "n": 1}),
                    ("batch-two", {"type": "push", "n": 2}),
                    ("batch-one", {"type": "push", "n": 3}),
                    ("batch-nobody", {"type": "push", "n": 4}),
                ]
            )
            got = {
                name: [(await layer.receive(channel))["n"] for _ in range(count)]
                for name, channel, count in (("a", a, 2), ("b", b, 2), ("c", c, 1))
            }
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(layer.receive(c), 0.2)
        finally:
            for group, channel in (("batch-one", a), ("batch-one", b), ("batch-two", c)):
                await layer.group_discard(group, channel)
        return got

    assert async_to_sync(scenario)() == {"a": [1, 3], "b": [1, 3], "c": [2]}


def test_subscribes_that_wait_together_go_as_one_command_and_every_member_gets_its_push(monkeypatch):
    from redis.asyncio.client import PubSub

    commands = []
    subscribe = PubSub.subscribe

    async def counted(self, *channels, **kwargs):
        commands.append(len(channels))
        return await subscribe(self, *channels, **kwargs)

    monkeypatch.setattr(PubSub, "subscribe", counted)
    layer = get_channel_layer()

    async def scenario():
        async def connect(n):
            channel = await layer.new_channel()
            await layer.group_add(f"together-{n}", channel)
            return channel

        channels = await asyncio.gather(*(connect(n) for n in range(40)))
        try:
            await layer.group_send_many([(f"together-{n}", {"type": "push", "n": n}) for n in range(40)])
            return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for channel in channels]
        finally:
            for n, channel in enumerate(channels):
                await layer.group_discard(f"together-{n}", channel)

    assert async_to_sync(scenario)() == list(range(40))
    assert sum(commands) == 80  # each socket's channel and its group, every one subscribed
    assert len(commands) < 40  # but not one command each


def test_a_group_left_while_its_subscribe_waits_is_not_left_subscribed():
    from redis.asyncio import Redis

    layer = get_channel_layer()

    async def scenario():
        channels = [await layer.new_channel() for _ in range(2)]
        # The first join holds the lock; the second's subscribe waits, and its socket leaves meanwhile.
        joins = [asyncio.ensure_future(layer.group_add(f"left-{n}", channel)) for n, channel in enumerate(channels)]
        await asyncio.sleep(0)
        await layer.group_discard("left-1", channels[1])
        await asyncio.gather(*joins)
        await layer.group_discard("left-0", channels[0])
        name = layer._get_layer()._get_group_channel_name("left-1")
        redis = Redis.from_url(os.environ["REDIS_URL"])
        try:
            return dict(await redis.pubsub_numsub(name))[name.encode()]
        finally:
            await redis.aclose()

    assert async_to_sync(scenario)() == 0
