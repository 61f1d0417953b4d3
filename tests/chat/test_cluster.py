"""Two daphne workers on PostgreSQL + Redis: people on different workers chat live."""

import json
import os

import pytest

from accounts.services import token_for
from tests.conftest import skip_or_fail
from tests.live import LiveDaphne, Socket, rest

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
    on_a = Socket.open(daphne_server, alice)
    on_b = Socket.open(second_worker, bob)
    try:
        on_a.send(type="message.send", conversation=conversation.pk, body="from worker A", client_id="a")
        assert (
            on_b.expect("message.new", skip=["presence"], body="from worker A")["message"]["sender"]["username"]
            == "alice"
        )
        on_b.send(type="message.send", conversation=conversation.pk, body="from worker B", client_id="b")
        assert (
            on_a.expect("message.new", skip=["presence", "message.ack", "message.new"], body="from worker B")[
                "message"
            ]["sender"]["username"]
            == "bob"
        )
        on_b.send(type="typing", conversation=conversation.pk)
        assert on_a.expect("typing", skip=["presence"])["user"] == "bob"
    finally:
        on_a.close()
        on_b.close()


def test_notifications_cross_workers(daphne_server, second_worker, alice, bob):
    on_a = Socket.open(daphne_server, alice)
    try:
        assert rest(second_worker, bob, "POST", "/api/users/alice/follow/").json()["followers_count"] == 1
        frame = on_a.expect("notification", skip=["presence"])
        assert frame["seq"] >= 1
        assert "bob" in json.dumps(frame["notification"])
    finally:
        on_a.close()


def test_a_killed_worker_loses_nothing(daphne_server, second_worker, alice, bob, befriend):
    """kill -9 the receiver's worker mid-stream; it resumes on the other worker: 0 lost, 0 doubled."""
    import signal
    import threading
    import time

    from websockets.exceptions import ConnectionClosed

    conversation = befriend(alice, bob)
    # CI streams 200; CLUSTER_STREAM_MESSAGES=1000 gives the figure (bench/RESULTS.md, Faults).
    total = int(os.environ.get("CLUSTER_STREAM_MESSAGES", 200))
    alice_key = token_for(user=alice).key

    def stream():
        for n in range(total):
            path = f"/api/conversations/{conversation.pk}/messages/"
            rest(daphne_server, alice_key, "POST", path, {"body": f"stream {n}", "client_id": f"s{n}"}).json()

    def sent_in(frame: dict) -> str:
        """The client_id of a streamed message: nothing else reaches bob while alice streams."""
        assert frame["type"] == "message.new", frame
        return frame["message"]["client_id"]

    receiver = Socket.open(second_worker, bob)
    receiver.send(type="resume", after=0)
    receiver.until("resume.done")  # what came before it is the history of the setup
    seen: list[str] = []
    sender = threading.Thread(target=stream)
    sender.start()
    try:
        while len(seen) < total // 4:
            seen.append(sent_in(receiver.recv(timeout=10)))
        second_worker.process.send_signal(signal.SIGKILL)
        with pytest.raises((ConnectionClosed, TimeoutError)):  # noqa: PT012 (reads until the worker dies)
            while True:
                seen.append(sent_in(receiver.recv(timeout=5)))
        killed_at = time.monotonic()
        time.sleep(1)  # a client's reconnect backoff: the stream goes on meanwhile
        last_seen = receiver.last_seq
        receiver = Socket.open(daphne_server, bob)
        receiver.send(type="resume", after=last_seen)
        *missed, _ = receiver.until("resume.done", timeout=10)
        seen += [sent_in(frame) for frame in missed]
        replayed = len(missed)
        caught_up = time.monotonic() - killed_at
        while len(seen) < total:
            seen.append(sent_in(receiver.recv(timeout=10)))
    finally:
        sender.join(timeout=60)
        receiver.close()
        second_worker.process = None  # killed: the fixture has nothing left to stop
    assert sorted(seen, key=lambda cid: int(cid[1:])) == [f"s{n}" for n in range(total)]
    assert len(seen) == len(set(seen)) == total
    assert replayed > 0, "messages sent while the receiver was away must come back through resume"
    print(
        f"killed worker: {total} messages, 0 lost, 0 duplicated; reconnected and replayed {replayed} missed "
        f"messages {caught_up:.2f} s after the kill"
    )
