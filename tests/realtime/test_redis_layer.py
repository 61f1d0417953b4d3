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
