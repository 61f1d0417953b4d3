"""A group member whose client never reads: the others are still served, and the member catches up.

Its socket has a small receive buffer and the client stops reading after one frame, so
the worker's writes to it back up. Meanwhile every other member gets every message
and pings are answered; afterwards the slow member reads what was queued, resumes from
the last seq it holds in order, and ends with every message exactly once.
"""

import asyncio
import collections
import contextlib
import functools
import socket
import time
from urllib.parse import urlparse

import pytest
from websockets.exceptions import ConnectionClosed

from chat.models import Message
from chat.services import OutgoingMessage, conversation_create, direct_conversation_get_or_create, message_send_many
from realtime.backpressure import WriteBuffer
from realtime.models import UserStream
from tests.live import Socket, own_daphne, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SENDERS = 6
# What befriending stored for the members before the flood (making the group stores nothing).
SETUP_EVENTS = {"contact.request", "contact.accepted"}
BURST = 20  # each sender's burst stays within the per-socket limit (20 a second)


def stalled_client(server, user) -> Socket:
    """A socket whose client stops reading: a 4 KiB receive buffer, and websockets' queue holds one frame.

    Without websockets' keepalive: the answer to its ping waits behind every frame the client has not
    read, so a ping sent 20 s in, while a slow machine's client still reads a long replay, timed out
    and the client closed its own connection (1011) at 40 s: a failure of the client, not the server."""
    address = urlparse(server.ws_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    return Socket.open(server, user, sock=sock, max_queue=1, ping_interval=None)


def test_a_member_who_never_reads_catches_up_by_resume(live_daphne, make_user, befriend):
    senders = [make_user() for _ in range(SENDERS)]
    reader, slow = make_user(), make_user()
    for person in [*senders[1:], reader, slow]:
        befriend(senders[0], person)
    group, _ = conversation_create(
        creator=senders[0], usernames=[p.username for p in [*senders[1:], reader, slow]], title="flood"
    )
    stalled = stalled_client(live_daphne, slow)
    stalled.send(type="resume", after=0)
    on_reader = Socket.open(live_daphne, reader)
    sockets = [Socket.open(live_daphne, sender) for sender in senders]
    total = SENDERS * BURST
    try:
        for n, sender_socket in enumerate(sockets):
            for k in range(BURST):
                sender_socket.send(
                    type="message.send", conversation=group.pk, body=f"flood {n}.{k}", client_id=f"{n}.{k}"
                )
        for sender_socket in sockets:
            assert (
                sum(
                    1
                    for _ in range(BURST)
                    if sender_socket.expect("message.ack", timeout=20, skip=["message.new", "presence"])
                )
                == BURST
            )

        read = {
            on_reader.expect("message.new", timeout=20, skip=["presence"])["message"]["client_id"] for _ in range(total)
        }
        assert len(read) == total, "the members who read get every message while one does not"
        on_reader.send(type="ping")
        assert on_reader.expect("pong", skip=["presence"])["type"] == "pong"  # and no message twice

        seen: list[str] = []
        seqs: set[int] = set()
        # What was queued for the stalled client, read until 2 s pass without a frame: the replay of
        # the setup it asked for first, then the flood, and the others coming online.
        queued = []
        with contextlib.suppress(TimeoutError):
            while True:
                queued.append(stalled.recv(timeout=2))
        for frame in queued:
            assert frame["type"] in {*SETUP_EVENTS, "resume.done", "message.new", "presence"}, frame
            seqs.add(frame.get("seq", 0))
            if frame["type"] == "message.new":
                seen.append(frame["message"]["client_id"])
        in_order = 0
        while in_order + 1 in seqs:
            in_order += 1
        stalled.send(type="resume", after=in_order)
        for frame in stalled.until("resume.done", timeout=20)[:-1]:
            assert frame["type"] in {*SETUP_EVENTS, "message.new"}, frame
            if frame["type"] == "message.new":
                seen.append(frame["message"]["client_id"])
    finally:
        for client in [stalled, on_reader, *sockets]:
            client.close()
    assert sorted(seen) == sorted(f"{n}.{k}" for n in range(SENDERS) for k in range(BURST)), "lost or doubled"


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        kib = next(line for line in status if line.startswith("VmRSS:")).split()[1]
    return int(kib) / 1024


def long_history(sender, reader, count: int, length: int = 3000):
    """`count` messages from sender to reader (stored in batches, as the socket's writer stores them)."""
    conversation = direct_conversation_get_or_create(sender, reader)
    for start in range(0, count, 200):
        numbers = range(start, min(count, start + 200))
        body = "x" * length
        message_send_many(
            sends=[
                OutgoingMessage(sender=sender, conversation_id=conversation.pk, body=f"{n} {body}", client_id=f"h{n}")
                for n in numbers
            ]
        )
    return conversation


def test_resumes_from_a_client_that_never_reads_do_not_pile_up_in_the_worker(live_daphne, alice, bob, befriend):
    """The probe's attack: a user with 1,200 stored events (here ~3 KB each), 300 `resume` frames, nothing read.

    Each replay would be ~4 MB; before, the worker queued every one of them for the client.
    Now one resume runs per socket and it waits for the client to read, so the worker holds a
    page at most; when the client does read, it gets the whole replay, in order, once.
    """
    befriend(alice, bob)
    long_history(bob, alice, 1200)
    pid = live_daphne.process.pid
    before = rss_mib(pid)
    stalled = stalled_client(live_daphne, alice)
    try:
        for _ in range(300):
            stalled.send(type="resume", after=0)
        peak = before
        for _ in range(30):  # 6 s: the old worker grew by tens of MB in that time
            time.sleep(0.2)
            peak = max(peak, rss_mib(pid))
        assert peak - before < 20, f"worker RSS grew from {before:.0f} to {peak:.0f} MiB"

        *replayed, done = stalled.until("resume.done", timeout=30)
    finally:
        stalled.close()
    seqs = [frame["seq"] for frame in replayed if frame["type"] != "error"]
    codes = [frame["code"] for frame in replayed if frame["type"] == "error"]
    assert seqs == list(range(1, done["last"] + 1)), "the replay lost, doubled or reordered frames"
    assert set(codes) <= {"resume_in_progress", "rate_limited"} and len(codes) == 299


# Sends of ~4 KB, each answered with an ack and a push of as much: ~8 MB in all. The kernel takes up to
# 4 MB of a socket's unsent data (tcp_wmem), then the worker's own buffer passes this test's 64 KiB cap.
SENT = 1000


def wait_until_stored_count_settles(conversation, *, quiet: float = 1.0, limit: float = 60) -> int:
    """The number of the conversation's messages once it has not changed for `quiet` seconds."""
    stored = Message.objects.filter(conversation=conversation)
    deadline = time.monotonic() + limit
    settled, count = -1, stored.count()
    while count != settled and time.monotonic() < deadline:
        settled = count
        time.sleep(quiet)
        count = stored.count()
    return count


def test_a_client_that_lets_frames_pile_up_is_closed_with_4008_and_resumes_without_loss(
    django_db_setup, alice, bob, befriend
):
    conversation = befriend(alice, bob)
    body = "y" * 3900
    before = UserStream.objects.get(user=alice).last_seq
    with own_daphne(CHAT_UNREAD_BYTES=str(128 * 1024), MESSAGES_PER_MINUTE="100000") as server:
        stalled = stalled_client(server, alice)
        try:
            for n in range(SENT):  # sends and sends, and reads nothing
                stalled.send(type="message.send", conversation=conversation.pk, body=f"{n} {body}", client_id=str(n))
            # Still reading nothing until the worker has stored (and answered) all it will: on a slow
            # machine the sends are stored long after they are sent, and reading earlier would drain
            # the worker before its unread frames ever reach the cap.
            wait_until_stored_count_settles(conversation)
            received = []
            with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 (reads until the close ends the loop)
                while True:  # what was buffered before the close, then the close frame
                    received.append(stalled.recv(timeout=10))
        finally:
            stalled.close()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
        # Acks, the sender's own pushes, and refusals of the sends past the writer's backlog.
        assert {frame["type"] for frame in received} <= {"message.ack", "message.new", "error"}
        assert {frame["code"] for frame in received if frame["type"] == "error"} <= {"rate_limited"}
        pushed = [frame for frame in received if frame["type"] == "message.new"]
        seqs = [frame["seq"] for frame in pushed]
        assert len(seqs) < SENT, "the worker was expected to stop writing before the end"
        # The pushes that came before the close, in order. Maybe none: an ack goes straight to the
        # socket, while on the Redis layer the push comes back through Redis, so on a quick machine
        # the acks of one large batch can reach the cap before its first push.
        assert seqs == list(range(before + 1, before + 1 + len(seqs)))

        wait_until_stored_count_settles(conversation)  # the sends the worker had read are all stored
        # Whether the close came before the last push was written depends on how much the kernel took
        # from Twisted (loopback's buffers grow to megabytes): a message Bob sends now, after the close,
        # is one the resume must bring whatever the timing was.
        after_close = rest(server, bob, "POST", f"/api/conversations/{conversation.pk}/messages/", {"body": "later"})
        assert after_close.status == 201
        again = Socket.open(server, alice)
        try:
            again.send(type="resume", after=seqs[-1] if seqs else before)
            *replayed, _ = again.until("resume.done", timeout=30)
        finally:
            again.close()
    by_seq: dict[int, str] = {}
    for frame in pushed + replayed:
        if frame["type"] == "message.new":
            assert frame["seq"] not in by_seq, "a message came twice"
            by_seq[frame["seq"]] = frame["message"]["body"]
    bodies = [by_seq[seq] for seq in sorted(by_seq)]
    stored = Message.objects.filter(conversation=conversation).order_by("id").values_list("body", flat=True)
    assert bodies == list(stored), "lost or reordered across the close"
    assert len(bodies) > len(seqs)


# How the consumer reads daphne's write buffer, on stand-ins for Twisted's transport and autobahn's protocol.


class StandInTransport:
    def __init__(self):
        self.dataBuffer, self.offset, self._tempDataLen = b"x" * 10, 4, 5


class StandInProtocol:
    def __init__(self):
        self.transport = StandInTransport()
        self.send_queue = collections.deque([(b"abc", False)])
        self.closeHandshakeTimeout = 1


class SessionWrapper:
    """As Channels' session middleware wraps daphne's send."""

    def __init__(self, real_send):
        self.real_send = real_send

    async def send(self, message):
        await self.real_send(message)


async def handle_reply(protocol, message):
    pass


def test_the_write_buffer_is_found_through_the_middleware_and_counted_whole():
    protocol = StandInProtocol()
    buffer = WriteBuffer(SessionWrapper(functools.partial(handle_reply, protocol)).send)
    assert buffer.protocol is protocol
    assert buffer.pending() == (10 - 4) + 5 + 3
    buffer.close_within(7)
    assert protocol.closeHandshakeTimeout == 7
    assert WriteBuffer(SessionWrapper(handle_reply).send).pending() == 0  # no daphne behind it: nothing held


def test_drained_waits_until_the_client_has_read():
    protocol = StandInProtocol()
    buffer = WriteBuffer(functools.partial(handle_reply, protocol))

    async def scenario():
        waiting = asyncio.create_task(buffer.drained(below=8))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        protocol.send_queue.clear()
        protocol.transport._tempDataLen = 0  # 6 left: below 8
        await asyncio.wait_for(waiting, 1)
        await asyncio.wait_for(buffer.drained(below=6), 0.01)  # at the mark: no wait

    asyncio.run(scenario())
