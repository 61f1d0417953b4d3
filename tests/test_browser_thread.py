"""The browser runs in a thread of its own: with a page open, the test's thread may still use
async_to_sync and the ORM, in the same test and in the tests that follow it."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_page_and_async_to_sync_in_the_same_test(new_page, alice, bob, befriend):
    page = new_page()
    page.goto("/login/")
    assert page.get_by_label("Username").is_visible()

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "hello"})
    assert async_to_sync(layer.receive)(channel) == {"type": "hello"}
    # A service that pushes after commit (async_to_sync inside), and the ORM, from this thread.
    conversation = befriend(alice, bob)
    assert conversation.memberships.count() == 2
    page.goto("/")
    assert page.title()


def test_after_a_browser_test_the_orm_and_async_to_sync_still_work(alice):
    assert User.objects.filter(username="alice").exists()
    assert async_to_sync(get_channel_layer().new_channel)()
