"""Redis killed and restarted under two live workers while a sender streams: nothing lost or doubled.

The workers get a Redis of their own (never the shared one), for the channel layer and
the cache. The clients behave as static/js/socket.js does: reconnect with backoff, resume
from the last seq seen in order, keep frames that arrive ahead of a gap.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.services import token_for
from chat.models import Message
from tests.conftest import skip_or_fail
from tests.live import LiveDaphne, Socket, free_port, wait_listening

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

TOTAL = 60
SEND_INTERVAL = 0.05  # under the per-socket limit of 20 messages a second
OUTAGE_SECONDS = 2.0


class PrivateRedis:
    """A redis-server on a free port that a test may kill -9 and start again on the same port."""

    def __init__(self, directory):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_listening(self.port, self.process, "redis-server", timeout=10)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis(tmp_path):
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("the Redis restart test runs with REDIS_URL (channels-redis)", "REQUIRE_SERVICES")
    if not shutil.which("redis-server"):
        skip_or_fail("redis-server is not installed", "REQUIRE_SERVICES")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def workers_on(daphne_server, private_redis):
    env = {**daphne_server.env, "REDIS_URL": private_redis.url}
    started = [LiveDaphne(env), LiveDaphne(env)]
    for worker in started:
        worker.start()
    yield started
    for worker in started:
        worker.stop()


class ResumingClient:
    """Reconnects with backoff and resumes; accepts each seq once, in order (as socket.js does)."""

    def __init__(self, server: LiveDaphne, token: str):
        self.server, self.token = server, token
        self.last_seq = 0
        self.early: dict[int, dict] = {}
        self.accepted: list[dict] = []
        self.reconnects = 0
        self.socket = self._connect()

    def _connect(self) -> Socket:
        backoff = 0.2
        while True:
            try:
                client = Socket.open(self.server, self.token)
                client.send(type="resume", after=self.last_seq)
                return client
            except (OSError, InvalidStatus, ConnectionClosed, TimeoutError):
                time.sleep(backoff)
                backoff = min(backoff * 2, 2)

    def send(self, **frame) -> None:
        # On a closed socket the answer never comes; the caller sends again after the reconnect.
        with contextlib.suppress(ConnectionClosed):
            self.socket.send(**frame)

    def recv(self, timeout: float = 1.0) -> dict | None:
        """The next frame that is not an in-order event (those go to `accepted`), or None."""
        try:
            frame = self.socket.recv(timeout=timeout)
        except TimeoutError:
            if self.early:  # a gap that did not fill: ask for what is missing
                self.socket.send(type="resume", after=self.last_seq)
            return None
        except ConnectionClosed:
            self.socket.close()
            self.reconnects += 1
            self.socket = self._connect()
            return {"type": "reconnected"}
        if "seq" not in frame:
            return frame
        if frame["seq"] > self.last_seq:
            self.early[frame["seq"]] = frame
        while self.last_seq + 1 in self.early:
            self.last_seq += 1
            self.accepted.append(self.early.pop(self.last_seq))
        self.early = {seq: f for seq, f in self.early.items() if seq > self.last_seq}
        return None

    def close(self) -> None:
        self.socket.close()


def stream(sender: ResumingClient, conversation_id: int, answers: dict[str, list[str]]) -> None:
    """Sends TOTAL messages one after another; each is sent again until it is acknowledged."""
    for n in range(TOTAL):
        client_id = f"m{n}"
        answers[client_id] = []
        while "ack" not in answers[client_id]:
            sender.send(type="message.send", conversation=conversation_id, body=f"message {n}", client_id=client_id)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                frame = sender.recv(timeout=0.5)
                if frame is None:
                    continue
                if frame["type"] == "reconnected":
                    answers[client_id].append("reconnected")
                    break
                if frame.get("client_id") == client_id:
                    answers[client_id].append("ack" if frame["type"] == "message.ack" else frame["code"])
                    break
            if "ack" not in answers[client_id]:
                time.sleep(0.3)
        time.sleep(SEND_INTERVAL)


def test_redis_restart_loses_nothing(workers_on, private_redis, alice, bob, befriend):
    worker_a, worker_b = workers_on
    conversation = befriend(alice, bob)
    sender = ResumingClient(worker_a, token_for(user=alice).key)
    receiver = ResumingClient(worker_b, token_for(user=bob).key)
    answers: dict[str, list[str]] = {}
    streaming = threading.Thread(target=stream, args=(sender, conversation.pk, answers))
    streaming.start()

    def received() -> list[str]:
        return [f["message"]["client_id"] for f in receiver.accepted if f["type"] == "message.new"]

    try:
        while len(received()) < TOTAL // 4:
            receiver.recv()
        private_redis.kill()
        time.sleep(OUTAGE_SECONDS)
        sent_before_restart = len(answers)
        private_redis.start()
        restarted_at = time.monotonic()
        caught_up = None
        deadline = time.monotonic() + 60
        while len(received()) < TOTAL and time.monotonic() < deadline:
            receiver.recv()
            if caught_up is None and len(received()) >= sent_before_restart:
                caught_up = time.monotonic() - restarted_at
    finally:
        streaming.join(timeout=60)
        sender.close()
        receiver.close()

    got = received()
    assert sorted(got, key=lambda cid: int(cid[1:])) == [f"m{n}" for n in range(TOTAL)], "lost or out of order"
    assert len(got) == len(set(got)) == TOTAL, "duplicated"
    assert Message.objects.filter(conversation=conversation).count() == TOTAL
    assert all(outcome[-1] == "ack" for outcome in answers.values()), "every send ends acknowledged"
    assert receiver.reconnects >= 1, "the receiver's socket must be told to reconnect after the outage"
    print(
        f"Redis restart: {TOTAL} messages, 0 lost, 0 duplicated; Redis down {OUTAGE_SECONDS:.1f} s; receiver "
        f"had every message sent before the restart {caught_up:.2f} s after it; reconnects: sender "
        f"{sender.reconnects}, receiver {receiver.reconnects}; sender answers other than a first ack: "
        f"{sum(len(outcome) - 1 for outcome in answers.values())}"
    )
