"""The embedded default's channel layer (realtime.layers): Channels' in-memory layer's behaviour,
checked as Channels' own tests check it (tests/test_inmemorychannel.py there), with expiry found
without scanning every channel. Time is a fake clock, so expiry is tested without sleeping."""

import asyncio
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull

from realtime import layers
from tests.live import ROOT


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(layers, "monotonic", fake)
    return fake


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


async def receive_nothing(layer, channel) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.05)
    except TimeoutError:
        return True
    return False


def test_the_embedded_default_uses_it():
    # Asked of a fresh process without REDIS_URL, so this runs (and holds) whatever this run's setup.
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    program = "import django; django.setup(); from django.conf import settings; "
    program += "print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    answer = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT, capture_output=True, text=True)
    assert answer.stdout.strip() == "realtime.layers.InMemoryChannelLayer", answer.stderr


def test_send_then_receive_in_order():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        for n in (1, 2, 3):
            await layer.send("test-channel-1", {"type": f"message.{n}", "text": "Ahoy-hoy!"})
        return [(await layer.receive("test-channel-1"))["type"] for _ in range(3)]

    assert run(scenario) == ["message.1", "message.2", "message.3"]
    assert layer.channels == {}  # an emptied channel is not kept


def test_a_process_local_channel():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        name = await layer.new_channel()
        await layer.send(name, {"type": "test.message", "text": "Local only please"})
        return await layer.receive(name)

    assert run(scenario)["text"] == "Local only please"


def test_capacity_refuses_a_send_to_a_full_channel():
    layer = layers.InMemoryChannelLayer(capacity=3)

    async def scenario():
        for _ in range(3):
            await layer.send("test-channel-1", {"type": "test.message"})
        with pytest.raises(ChannelFull):
            await layer.send("test-channel-1", {"type": "test.message"})

    run(scenario)


def test_bad_messages_are_refused():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        with pytest.raises(TypeError):
            await layer.send("test-channel-1", ["not", "a", "dict"])
        with pytest.raises(TypeError):
            await layer.group_send("test-group", "nor this")
        with pytest.raises(ValueError, match="__asgi_channel__"):
            await layer.send("test-channel-1", {"type": "x", "__asgi_channel__": "y"})

    run(scenario)
    assert layer.channels == {}


def test_groups_reach_their_members_only():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        for channel in ("test-gr-chan-1", "test-gr-chan-2", "test-gr-chan-3"):
            await layer.group_add("test-group", channel)
        await layer.group_discard("test-group", "test-gr-chan-2")
        await layer.group_send("test-group", {"type": "message.1"})
        got = [(await layer.receive(c))["type"] for c in ("test-gr-chan-1", "test-gr-chan-3")]
        return got, await receive_nothing(layer, "test-gr-chan-2")

    assert run(scenario) == (["message.1", "message.1"], True)


def test_a_group_send_skips_a_full_member_and_still_reaches_the_others():
    layer = layers.InMemoryChannelLayer(capacity=3)

    async def scenario():
        await layer.group_add("test-group", "full")
        await layer.group_add("test-group", "reading")
        for n in range(5):
            await layer.group_send("test-group", {"type": "message", "n": n})
            assert (await layer.receive("reading"))["n"] == n
        return [(await layer.receive("full"))["n"] for _ in range(3)], await receive_nothing(layer, "full")

    assert run(scenario) == ([0, 1, 2], True)  # past capacity the pushes were dropped, as Channels does


def test_a_group_send_is_a_copy_of_what_the_sender_passed():
    layer = layers.InMemoryChannelLayer()
    message = {"type": "event.push", "payload": {"n": 1}}

    async def scenario():
        await layer.group_add("test-group", "a")
        await layer.group_send("test-group", message)
        message["payload"]["n"] = 2  # the sender reuses its dict afterwards
        return await layer.receive("a")

    assert run(scenario)["payload"] == {"n": 1}


def test_the_last_member_leaving_drops_the_group():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        await layer.group_add("test-group", "a")
        await layer.group_discard("test-group", "a")
        await layer.group_discard("test-group", "never-joined")  # not an error

    run(scenario)
    assert layer.groups == {}


def test_an_unread_message_expires_and_its_channel_is_cleaned_up(clock):
    layer = layers.InMemoryChannelLayer(expiry=10)

    async def scenario():
        await layer.send("test-channel-1", {"type": "message.1"})
        clock.now += 11
        await layer.send("test-channel-2", {"type": "message.2"})
        assert len(layer.channels) == 2
        assert (await layer.receive("test-channel-2"))["type"] == "message.2"
        assert layer.channels == {}  # both: the expired one and the emptied one
        return await receive_nothing(layer, "test-channel-1")

    assert run(scenario) is True
    assert layer.channels == {}


def test_only_the_expired_messages_of_a_channel_go(clock):
    layer = layers.InMemoryChannelLayer(expiry=10)

    async def scenario():
        for n in (1, 2, 3):
            await layer.send("test-channel-1", {"type": f"message.{n}"})
        assert (await layer.receive("test-channel-1"))["type"] == "message.1"
        clock.now += 11
        await layer.send("test-channel-1", {"type": "message.4"})
        got = (await layer.receive("test-channel-1"))["type"]
        return got, await receive_nothing(layer, "test-channel-1")

    assert run(scenario) == ("message.4", True)
    assert layer.channels == {}


def test_a_message_sent_later_outlives_the_earlier_ones(clock):
    layer = layers.InMemoryChannelLayer(expiry=10)

    async def scenario():
        await layer.send("early", {"type": "early"})
        clock.now += 6
        await layer.send("late", {"type": "late"})
        clock.now += 6  # 12 s after the first, 6 after the second
        await layer.send("other", {"type": "other"})
        await layer.receive("other")
        return set(layer.channels), (await layer.receive("late"))["type"]

    assert run(scenario) == ({"late"}, "late")


def test_a_channel_whose_message_expired_leaves_every_group_and_only_it_does(clock):
    layer = layers.InMemoryChannelLayer(expiry=10)

    async def scenario():
        for group in ("g1", "g2"):
            await layer.group_add(group, "gone")
            await layer.group_add(group, "alive")
        await layer.send("gone", {"type": "unread"})
        clock.now += 11
        await layer.group_send("g1", {"type": "after"})
        return await layer.receive("alive")

    assert run(scenario)["type"] == "after"
    assert layer.groups == {"g1": {"alive": 1000.0}, "g2": {"alive": 1000.0}}
    assert layer.channels == {}


def test_group_membership_expires_group_expiry_after_the_last_join(clock):
    layer = layers.InMemoryChannelLayer(group_expiry=100)

    async def scenario():
        await layer.group_add("g", "old")
        await layer.group_add("g", "renewed")
        clock.now += 60
        await layer.group_add("g", "renewed")  # a heartbeat joining again renews it
        await layer.group_add("g", "late")
        clock.now += 50  # 110 s after the first joins, 50 after the renewal
        await layer.group_send("g", {"type": "m"})
        got = {c: (await layer.receive(c))["type"] for c in ("renewed", "late")}
        return got, await receive_nothing(layer, "old")

    assert run(scenario) == ({"renewed": "m", "late": "m"}, True)
    assert set(layer.groups["g"]) == {"renewed", "late"}


def test_a_discarded_membership_does_not_expire_a_later_join(clock):
    layer = layers.InMemoryChannelLayer(group_expiry=100)

    async def scenario():
        await layer.group_add("g", "a")
        await layer.group_discard("g", "a")
        clock.now += 60
        await layer.group_add("g", "a")
        clock.now += 50  # the first join would have expired by now; the second has not
        await layer.group_send("g", {"type": "m"})
        return await layer.receive("a")

    assert run(scenario)["type"] == "m"


def test_flush_forgets_everything(clock):
    layer = layers.InMemoryChannelLayer(expiry=10)

    async def scenario():
        await layer.group_add("g", "a")
        await layer.send("b", {"type": "m"})
        await layer.flush()
        clock.now += 11
        await layer.group_send("g", {"type": "m"})  # nothing left to expire or to reach

    run(scenario)
    assert (layer.channels, layer.groups) == ({}, {})


def test_a_cancelled_receive_leaves_no_channel_behind():
    layer = layers.InMemoryChannelLayer()

    async def scenario():
        return await receive_nothing(layer, "waiting")

    assert run(scenario) is True
    assert layer.channels == {}
