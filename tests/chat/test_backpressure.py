"""A group member whose client never reads: the others are still served, and the member catches up.

Its socket has a small receive buffer and the client stops reading after one frame, so
the worker's writes to it back up. Meanwhile every other member gets every message
and pings are answered; afterwards the slow member reads what was queued, resumes from
the last seq it holds in order, and ends with every message exactly once.
"""

import socket
from urllib.parse import urlparse

import pytest

from accounts.services import token_for
from chat.services import conversation_create

from .wsclient import SocketClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SENDERS = 6
BURST = 20  # each sender's burst stays within the per-socket limit (20 a second)


def stalled_client(ws_url: str, user) -> SocketClient:
    address = urlparse(ws_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    return SocketClient(ws_url, token_for(user=user).key, sock=sock, max_queue=1)


def test_a_member_who_never_reads_catches_up_by_resume(live_daphne, make_user, befriend):
    senders = [make_user() for _ in range(SENDERS)]
    reader, slow = make_user(), make_user()
    for person in [*senders[1:], reader, slow]:
        befriend(senders[0], person)
    group, _ = conversation_create(
        creator=senders[0], usernames=[p.username for p in [*senders[1:], reader, slow]], title="flood"
    )
    stalled = stalled_client(live_daphne.ws_url, slow)
    stalled.send(type="resume", after=0)
    on_reader = SocketClient(live_daphne.ws_url, token_for(user=reader).key)
    sockets = [SocketClient(live_daphne.ws_url, token_for(user=sender).key) for sender in senders]
    total = SENDERS * BURST
    try:
        for n, sender_socket in enumerate(sockets):
            for k in range(BURST):
                sender_socket.send(
                    type="message.send", conversation=group.pk, body=f"flood {n}.{k}", client_id=f"{n}.{k}"
                )
        for sender_socket in sockets:
            assert sum(1 for _ in range(BURST) if sender_socket.expect("message.ack", timeout=20)) == BURST

        read = {on_reader.expect("message.new", timeout=20)["message"]["client_id"] for _ in range(total)}
        assert len(read) == total, "the members who read get every message while one does not"
        on_reader.send(type="ping")
        assert on_reader.expect("pong")["type"] == "pong"

        seen: list[str] = []
        seqs: set[int] = set()
        try:
            while True:  # what was queued for the stalled client
                frame = stalled.recv(timeout=2)
                seqs.add(frame.get("seq", 0))
                if frame["type"] == "message.new":
                    seen.append(frame["message"]["client_id"])
        except TimeoutError:
            pass
        in_order = 0
        while in_order + 1 in seqs:
            in_order += 1
        stalled.send(type="resume", after=in_order)
        while (frame := stalled.recv(timeout=20))["type"] != "resume.done":
            if frame["type"] == "message.new":
                seen.append(frame["message"]["client_id"])
    finally:
        for client in [stalled, on_reader, *sockets]:
            client.close()
    assert sorted(seen) == sorted(f"{n}.{k}" for n in range(SENDERS) for k in range(BURST)), "lost or doubled"
