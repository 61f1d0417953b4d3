"""Presence goes to contacts only, live over the socket and in the contacts list."""

import os
import signal
import time

import pytest
from django.core.cache import cache

from realtime import presence
from realtime.presence import socket_count_key
from tests.conftest import skip_or_fail
from tests.live import LiveDaphne, Socket, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def live_contacts(daphne_server, user) -> list[dict]:
    """GET /api/contacts/ from the live server, whose cache holds the presence counts."""
    return rest(daphne_server, user, "GET", "/api/contacts/").json()


def test_contacts_see_each_other_come_and_go(daphne_server, alice, bob, make_user, befriend):
    befriend(alice, bob)
    stranger = Socket.open(daphne_server, make_user(username="eve"))
    watcher = Socket.open(daphne_server, alice)
    bob_socket = Socket.open(daphne_server, bob)
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
    watcher = Socket.open(daphne_server, alice)
    tab1 = Socket.open(daphne_server, bob)
    assert watcher.recv()["online"] is True
    tab2 = Socket.open(daphne_server, bob)
    tab1.close()
    watcher.send(type="ping")
    assert watcher.recv() == {"type": "pong"}  # still online: no "offline" before the pong
    tab2.close()
    assert watcher.recv() == {"type": "presence", "user": "bob", "online": False}
    watcher.close()


def test_blocked_contacts_see_no_presence(daphne_server, alice, bob, befriend, client_for):
    befriend(alice, bob)
    client_for(bob).post("/api/blocks/", {"username": "alice"}, format="json")
    watcher = Socket.open(daphne_server, alice)
    bob_socket = Socket.open(daphne_server, bob)
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
        bob_socket = Socket.open(worker, bob)
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


# The bookkeeping itself, in this process (its cache and layer), without a server.


@pytest.fixture
def told(monkeypatch) -> list[tuple[set[int], dict]]:
    """What presence announces, and to whom."""
    frames = []
    monkeypatch.setattr(presence, "ephemeral_send", lambda *, user_ids, frame: frames.append((set(user_ids), frame)))
    return frames


def test_the_count_caps_a_users_sockets_and_only_the_first_and_last_are_announced(alice, bob, befriend, told):
    befriend(alice, bob)
    assert [presence.socket_opened(bob, most=2) for _ in range(3)] == [True, True, False]
    assert cache.get(socket_count_key(bob.pk)) == 2 and presence._local_sockets[bob.pk] == 2
    assert told == [({alice.pk}, {"type": "presence", "user": "bob", "online": True})]
    assert presence.online_among([alice.pk, bob.pk]) == {bob.pk}

    presence.socket_closed(bob)
    assert len(told) == 1 and presence.presence_of([bob.pk])[bob.pk]["online"] is True
    presence.socket_closed(bob)
    assert told[-1] == ({alice.pk}, {"type": "presence", "user": "bob", "online": False})
    state = presence.presence_of([bob.pk])[bob.pk]
    assert state["online"] is False and state["last_seen"]
    assert cache.get(socket_count_key(bob.pk)) is None and bob.pk not in presence._local_sockets
    assert presence.online_among([bob.pk]) == set()
    assert all(presence.socket_opened(bob) for _ in range(5))  # no cap given, none applied
    for _ in range(5):
        presence.socket_closed(bob)


def test_a_users_count_outlasts_many_other_users_counts(alice, bob, befriend, told):
    """Thousands of other users online or counted by a limit do not push a user's count out of the
    cache (Django's local-memory cache kept 300 entries: alice showed offline with her tab open)."""
    befriend(alice, bob)
    presence.socket_opened(alice)
    for user_id in range(10**6, 10**6 + 2_000):
        cache.count_from_zero(socket_count_key(user_id), 60)
    assert presence.online_among([alice.pk, bob.pk]) == {alice.pk}
    presence.socket_closed(alice)


def test_presence_is_not_announced_across_a_block(alice, bob, make_user, befriend, told):
    carol = make_user(username="carol")
    befriend(alice, bob)
    befriend(carol, bob)
    from chat.services import block_create

    block_create(user=bob, username="carol")
    presence.socket_opened(bob)
    presence.socket_closed(bob)
    assert [audience for audience, _ in told] == [{alice.pk}, {alice.pk}]


def test_online_among_reads_in_chunks(make_user, monkeypatch):
    people = [make_user() for _ in range(5)]
    for person in people[1:4]:
        cache.set(socket_count_key(person.pk), 1)
    cache.set(socket_count_key(people[4].pk), 0)
    monkeypatch.setattr(presence, "LOOKUP_CHUNK", 2)
    reads = []
    real_get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(len(keys)) or real_get_many(keys))
    assert presence.online_among(p.pk for p in people) == {p.pk for p in people[1:4]}
    assert reads == [2, 2, 1]


def test_the_heartbeat_brings_back_a_count_that_expired(alice, told):
    presence.socket_opened(alice)
    presence.socket_opened(alice)
    cache.delete(socket_count_key(alice.pk))  # expired (or Redis restarted) while the sockets stay open
    presence.counts_refresh()
    assert cache.get(socket_count_key(alice.pk)) == 2
    cache.set(socket_count_key(alice.pk), 5)  # another worker's sockets count too: kept, not overwritten
    presence.counts_refresh()
    assert cache.get(socket_count_key(alice.pk)) == 5
    presence._local_sockets.pop(alice.pk)


def test_the_heartbeat_keeps_a_count_alive_for_a_ttl_and_no_longer(alice, told, settings):
    settings.PRESENCE_TTL = 1
    presence.socket_opened(alice)
    presence.counts_refresh()  # pushed back: alive for another TTL from now
    time.sleep(0.6)
    presence.counts_refresh()
    time.sleep(0.6)
    assert cache.get(socket_count_key(alice.pk)) == 1, "the refresh did not push the expiry back"
    time.sleep(0.6)  # no refresh for a TTL (a worker that died): the count is gone
    assert cache.get(socket_count_key(alice.pk)) is None, "a refreshed count must still expire"
    presence.counts_refresh()  # brought back, with the same TTL
    assert cache.get(socket_count_key(alice.pk)) == 1
    time.sleep(1.1)
    assert cache.get(socket_count_key(alice.pk)) is None, "a count brought back must expire like any other"
    presence._local_sockets.pop(alice.pk)


def test_an_unreachable_cache_lets_the_socket_open_uncounted(alice, told, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(cache, "incr", unreachable)
    assert presence.socket_opened(alice, most=1) is True
    assert presence._local_sockets[alice.pk] == 1  # the heartbeat counts it once the cache is back
    monkeypatch.setattr(cache, "decr", unreachable)
    presence.socket_closed(alice)
    assert alice.pk not in presence._local_sockets and told == []
