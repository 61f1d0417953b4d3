"""Presence goes to contacts only, live over the socket and in the contacts list."""

import json
import os
import signal
import time
import urllib.request

import pytest

from accounts.services import token_for
from tests.conftest import LiveDaphne, skip_or_fail

from .wsclient import SocketClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def live_contacts(daphne_server, user) -> list[dict]:
    """GET /api/contacts/ from the live server, whose cache holds the presence counts."""
    request = urllib.request.Request(
        f"{daphne_server.url}/api/contacts/", headers={"Authorization": f"Token {token_for(user=user).key}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_contacts_see_each_other_come_and_go(daphne_server, alice, bob, make_user, befriend):
    befriend(alice, bob)
    stranger = SocketClient(daphne_server.ws_url, token_for(user=make_user(username="eve")).key)
    watcher = SocketClient(daphne_server.ws_url, token_for(user=alice).key)
    bob_socket = SocketClient(daphne_server.ws_url, token_for(user=bob).key)
    assert watcher.recv() == {"type": "presence", "user": "bob", "online": True}
    [contact] = live_contacts(daphne_server, alice)
    assert (contact["username"], contact["online"]) == ("bob", True)

    bob_socket.close()
    assert watcher.recv() == {"type": "presence", "user": "bob", "online": False}
    [contact] = live_contacts(daphne_server, alice)
    assert contact["online"] is False and contact["last_seen"]
    stranger.send(type="ping")
    assert stranger.recv() == {"type": "pong"}  # the stranger was told nothing before it
    watcher.close()
    stranger.close()


def test_two_tabs_count_as_one_presence(daphne_server, alice, bob, befriend):
    befriend(alice, bob)
    watcher = SocketClient(daphne_server.ws_url, token_for(user=alice).key)
    tab1 = SocketClient(daphne_server.ws_url, token_for(user=bob).key)
    assert watcher.recv()["online"] is True
    tab2 = SocketClient(daphne_server.ws_url, token_for(user=bob).key)
    tab1.close()
    watcher.send(type="ping")
    assert watcher.recv() == {"type": "pong"}  # still online: no "offline" before the pong
    tab2.close()
    assert watcher.recv() == {"type": "presence", "user": "bob", "online": False}
    watcher.close()


def test_blocked_contacts_see_no_presence(daphne_server, alice, bob, befriend, client_for):
    befriend(alice, bob)
    client_for(bob).post("/api/blocks/", {"username": "alice"}, format="json")
    watcher = SocketClient(daphne_server.ws_url, token_for(user=alice).key)
    bob_socket = SocketClient(daphne_server.ws_url, token_for(user=bob).key)
    bob_socket.send(type="ping")
    assert bob_socket.recv() == {"type": "pong"}
    watcher.send(type="ping")
    assert watcher.recv() == {"type": "pong"}
    assert live_contacts(daphne_server, alice) == []
    bob_socket.close()
    watcher.close()


def test_a_killed_workers_sockets_stop_counting_within_the_ttl(daphne_server, alice, bob, befriend):
    """The worker refreshes the counts of its sockets past their TTL; killed, it stops, and they expire."""
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("workers share presence counts through Redis (REDIS_URL)", "REQUIRE_SERVICES")
    befriend(alice, bob)
    worker = LiveDaphne({**daphne_server.env, "PRESENCE_TTL": "2"})
    worker.start()
    try:
        bob_socket = SocketClient(worker.ws_url, token_for(user=bob).key)
        time.sleep(3)  # past the TTL: only the worker's heartbeat keeps bob counted
        [contact] = live_contacts(daphne_server, alice)
        assert contact["online"] is True
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        worker.process = None
        deadline = time.monotonic() + 10
        while live_contacts(daphne_server, alice)[0]["online"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert live_contacts(daphne_server, alice)[0]["online"] is False
        bob_socket.close()
    finally:
        worker.stop()
