"""The browser runs in a thread of its own: with a page open, the test's thread may still use
async_to_sync and the ORM, in the same test and in the tests that follow it."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def _layer_round_trip() -> dict:
    # In one event loop: Redis pub/sub keeps no message for a channel nobody listens to yet, and
    # a subscription belongs to the loop that made it.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.2)  # the receive is listening
    await layer.send(channel, {"type": "hello"})
    return await asyncio.wait_for(receiving, timeout=10)


def test_a_page_and_async_to_sync_in_the_same_test(new_page, alice, bob, befriend):
    page = new_page()
    page.goto("/login/")
    assert page.get_by_label("Username").is_visible()

    assert async_to_sync(_layer_round_trip)() == {"type": "hello"}
    # A service that pushes after commit (async_to_sync inside), and the ORM, from this thread.
    conversation = befriend(alice, bob)
    assert conversation.memberships.count() == 2
    page.goto("/")
    assert page.title()


def test_after_a_browser_test_the_orm_and_async_to_sync_still_work(alice):
    assert User.objects.filter(username="alice").exists()
    assert async_to_sync(get_channel_layer().new_channel)()
