"""Two daphne workers on PostgreSQL + Redis: people on different workers chat live."""

import json
import os
import urllib.request

import pytest

from accounts.services import token_for
from tests.conftest import LiveDaphne, skip_or_fail

from .wsclient import SocketClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_worker(daphne_server):
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("several workers need REDIS_URL (channels-redis)", "REQUIRE_SERVICES")
    worker = LiveDaphne(daphne_server.env)
    worker.start()
    yield worker
    worker.stop()


def test_a_client_on_each_worker_chats_live(daphne_server, second_worker, alice, bob, befriend):
    conversation = befriend(alice, bob)
    on_a = SocketClient(daphne_server.ws_url, token_for(user=alice).key)
    on_b = SocketClient(second_worker.ws_url, token_for(user=bob).key)
    try:
        on_a.send(type="message.send", conversation=conversation.pk, body="from worker A", client_id="a")
        assert on_b.expect("message.new", body="from worker A")["message"]["sender"]["username"] == "alice"
        on_b.send(type="message.send", conversation=conversation.pk, body="from worker B", client_id="b")
        assert on_a.expect("message.new", body="from worker B")["message"]["sender"]["username"] == "bob"
        on_b.send(type="typing", conversation=conversation.pk)
        assert on_a.expect("typing")["user"] == "bob"
    finally:
        on_a.close()
        on_b.close()


def test_notifications_cross_workers(daphne_server, second_worker, alice, bob):
    on_a = SocketClient(daphne_server.ws_url, token_for(user=alice).key)
    try:
        request = urllib.request.Request(
            f"{second_worker.url}/api/users/alice/follow/",
            method="POST",
            headers={"Authorization": f"Token {token_for(user=bob).key}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["followers_count"] == 1
        frame = on_a.expect("notification")
        assert frame["seq"] >= 1
        assert "bob" in json.dumps(frame["notification"])
    finally:
        on_a.close()
