"""Calls over a live daphne with real sockets: who may call whom, the signalling, and each call's record."""

import base64
import hashlib
import hmac
import json
import signal
import time
import uuid

import pytest
from django.conf import settings

from chat.calls import MAX_SDP, turn_credentials
from chat.models import Call, Conversation, Message
from chat.services import block_create, contact_remove
from tests.factories import ConversationFactory
from tests.live import Socket, own_daphne, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
ANSWER = "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
# Frames a socket may get around the ones a test looks for: contacts coming online, and (on Redis,
# where the test process's own pushes may come late) the contact request of the setup.
NOISE = ["presence", "contact.request", "contact.accepted"]


@pytest.fixture(autouse=True)
def _calls_end_before_teardown():
    """Sockets left in a call are closed here, and the test waits for the server to end those calls:
    a worker ending them while the database is flushed for the next test would deadlock the flush."""
    yield
    for socket in list(Socket.still_open):
        socket.close()
    deadline = time.monotonic() + 10
    while Call.objects.exclude(state=Call.State.ENDED).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def new_call_id() -> str:
    return str(uuid.uuid4())


def invite(socket: Socket, conversation: Conversation, media="voice", **extra) -> str:
    call_id = extra.pop("call_id", new_call_id())
    socket.send(type="call.invite", conversation=conversation.pk, call_id=call_id, media=media, sdp=OFFER, **extra)
    return call_id


def record_frame(socket: Socket, timeout: float = 5) -> dict:
    """The call's record as the socket gets it: a message.new of kind call."""
    frame = socket.expect("message.new", timeout, skip=[*NOISE, "call.ended", "call.ice"])
    assert frame["message"]["kind"] == "call"
    return frame["message"]


def ended(socket: Socket, call_id: str, reason: str, timeout: float = 5) -> dict:
    """`call.ended` and the call's record, in whichever order two channels of Redis deliver them."""
    got = socket.expect_all(("call.ended", "message.new"), timeout, skip=NOISE)
    assert (got["call.ended"]["call_id"], got["call.ended"]["reason"]) == (call_id, reason)
    assert got["message.new"]["message"]["kind"] == "call"
    return got["message.new"]["message"]


def answered_call(server, alice, bob, conversation) -> tuple[Socket, Socket, str]:
    caller, callee = Socket.open(server, alice), Socket.open(server, bob)
    call_id = invite(caller, conversation, media="video")
    incoming = callee.expect("call.incoming", skip=NOISE)
    callee.send(type="call.answer", call_id=incoming["call_id"], sdp=ANSWER)
    caller.expect("call.answered", skip=NOISE, call_id=call_id, sdp=ANSWER)
    return caller, callee, call_id


def test_a_call_rings_every_tab_one_answers_and_the_record_tells_its_length(live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    caller = Socket.open(live_daphne, alice)
    first_tab, second_tab = Socket.open(live_daphne, bob), Socket.open(live_daphne, bob)
    call_id = invite(caller, conversation, media="video")
    for tab in (first_tab, second_tab):
        incoming = tab.expect("call.incoming", skip=NOISE, call_id=call_id)
        assert incoming["sdp"] == OFFER
        assert incoming["media"] == "video"
        assert incoming["from"]["username"] == "alice"
        assert incoming["conversation"] == conversation.pk
    first_tab.send(type="call.answer", call_id=call_id, sdp=ANSWER)
    caller.expect("call.answered", skip=NOISE, call_id=call_id, sdp=ANSWER)
    second_tab.expect("call.ended", skip=NOISE, call_id=call_id, reason="answered_elsewhere")
    # The tab that lost cannot take it any more.
    second_tab.send(type="call.answer", call_id=call_id, sdp=ANSWER)
    second_tab.expect("error", code="call_state")

    # Candidates go from one socket in the call to the other, and nowhere else.
    caller.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    assert first_tab.expect("call.ice", skip=NOISE, call_id=call_id)["candidate"] == CANDIDATE
    first_tab.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    caller.expect("call.ice", skip=NOISE, call_id=call_id)
    second_tab.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    second_tab.expect("error", code="not_found")
    assert second_tab.settle() == []

    first_tab.send(type="call.hangup", call_id=call_id)
    records = [ended(caller, call_id, "hangup"), ended(first_tab, call_id, "hangup"), record_frame(second_tab)]
    for record in records:
        assert record["body"].startswith("Video call · 0:0")
        assert record["sender"]["username"] == "alice"

    history = rest(live_daphne, bob, "GET", f"/api/conversations/{conversation.pk}/messages/").json()
    newest = history["results"][0] if "results" in history else history[0]
    assert newest["kind"] == "call" and newest["body"].startswith("Video call · ")
    call = Call.objects.get(pk=call_id)
    assert (call.state, call.outcome, call.message_id) == ("ended", "hangup", newest["id"])


def test_declined(live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    caller, callee = Socket.open(live_daphne, alice), Socket.open(live_daphne, bob)
    call_id = invite(caller, conversation)
    callee.expect("call.incoming", skip=NOISE)
    callee.send(type="call.decline", call_id=call_id)
    assert ended(caller, call_id, "declined")["body"] == "Declined voice call"
    assert ended(callee, call_id, "declined")["body"] == "Declined voice call"


def test_a_callee_in_a_call_is_busy(live_daphne, alice, bob, make_user, befriend):
    carol = make_user(username="carol")
    carol_and_bob = befriend(carol, bob)
    _, callee, _ = answered_call(live_daphne, alice, bob, befriend(alice, bob))
    other_tab = Socket.open(live_daphne, bob)
    caller = Socket.open(live_daphne, carol)
    call_id = invite(caller, carol_and_bob)
    assert ended(caller, call_id, "busy")["body"] == "Busy"
    # Bob is not rung: he only gets the record, unread (so the badge counts it).
    for socket in (callee, other_tab):
        assert record_frame(socket)["body"] == "Busy"
        assert not [f for f in socket.settle() if f["type"].startswith("call.")]
    chats = rest(live_daphne, bob, "GET", "/api/conversations/").json()
    chats = chats.get("results", chats) if isinstance(chats, dict) else chats
    assert next(c for c in chats if c["id"] == carol_and_bob.pk)["unread_count"] == 1


def test_a_caller_who_disconnects_ends_the_call(live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    caller, callee = Socket.open(live_daphne, alice), Socket.open(live_daphne, bob)
    call_id = invite(caller, conversation)
    callee.expect("call.incoming", skip=NOISE)
    caller.close()
    assert ended(callee, call_id, "hangup")["body"] == "Cancelled voice call"

    caller, callee, call_id = answered_call(live_daphne, alice, bob, conversation)
    caller.close()
    assert ended(callee, call_id, "hangup")["body"].startswith("Video call · ")


def test_only_contacts_in_their_direct_chat_may_call(live_daphne, alice, bob, make_user, befriend):
    conversation = befriend(alice, bob)
    mallory, blocked, removed = make_user(username="mallory"), make_user(username="blocked"), make_user(username="gone")
    blocked_chat, removed_chat = befriend(blocked, bob), befriend(removed, bob)
    block_create(user=bob, username="blocked")
    contact_remove(user=bob, username="gone")
    group = ConversationFactory(creator=alice, members=[bob, mallory], title="Trip")
    bob_socket = Socket.open(live_daphne, bob)
    attempts = [(mallory, conversation), (blocked, blocked_chat), (removed, removed_chat), (alice, group)]
    for person, chat in attempts:
        with Socket.open(live_daphne, person) as socket:
            call_id = invite(socket, chat)
            socket.expect("error", skip=NOISE, code="not_allowed")
            assert not Call.objects.filter(pk=call_id).exists()
    # A conversation that does not exist is answered the same.
    with Socket.open(live_daphne, mallory) as socket:
        invite(socket, Conversation(pk=10**9))
        socket.expect("error", skip=NOISE, code="not_allowed")
    assert [f for f in bob_socket.drain() if f["type"] not in NOISE] == []


def test_frames_for_a_call_the_sender_is_not_in(live_daphne, alice, bob, make_user, befriend):
    mallory = make_user(username="mallory")
    befriend(mallory, alice)
    caller, callee = Socket.open(live_daphne, alice), Socket.open(live_daphne, bob)
    call_id = invite(caller, befriend(alice, bob))
    callee.expect("call.incoming", skip=NOISE)
    with Socket.open(live_daphne, mallory) as intruder:
        for frame in (
            {"type": "call.answer", "call_id": call_id, "sdp": ANSWER},
            {"type": "call.decline", "call_id": call_id},
            {"type": "call.hangup", "call_id": call_id},
            {"type": "call.ice", "call_id": call_id, "candidate": CANDIDATE},
            {"type": "call.answer", "call_id": new_call_id(), "sdp": ANSWER},
        ):
            intruder.send(**frame)
            intruder.expect("error", skip=NOISE, code="not_found")
        intruder.send(type="call.ice", call_id="not-a-uuid", candidate=CANDIDATE)
        intruder.expect("error", skip=NOISE, code="not_found")
    # The caller's other tab is not in the call either.
    with Socket.open(live_daphne, alice) as other_tab:
        other_tab.send(type="call.hangup", call_id=call_id)
        other_tab.expect("error", skip=NOISE, code="not_found")
    assert [f for f in caller.drain() + callee.drain() if f["type"] not in NOISE] == []
    assert Call.objects.get(pk=call_id).state == "ringing"


def test_bad_call_frames_are_refused_and_reach_nobody(live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    caller, callee = Socket.open(live_daphne, alice), Socket.open(live_daphne, bob)
    for size, code in ((MAX_SDP + 1, "too_long"), (40_000, "too_long")):
        caller.send(
            type="call.invite", conversation=conversation.pk, call_id=new_call_id(), media="voice", sdp="a" * size
        )
        caller.expect("error", skip=NOISE, code=code)
    invite(caller, conversation, media="smell")
    caller.expect("error", skip=NOISE, code="invalid")
    invite(caller, conversation, call_id="1234")
    caller.expect("error", skip=NOISE, code="invalid")
    # A message frame is still held to 16,000 characters: only the SDP frames may be longer.
    caller.send(type="message.send", conversation=conversation.pk, client_id="x", body="a" * 17_000)
    caller.expect("error", skip=NOISE, code="too_long")
    assert [f for f in callee.drain() if f["type"] not in NOISE] == []
    assert not Call.objects.exists()

    caller, callee, call_id = answered_call(live_daphne, alice, bob, conversation)
    caller.send(type="call.ice", call_id=call_id, candidate={"candidate": "x" * 2000})
    caller.expect("error", skip=NOISE, code="too_long")
    caller.send(type="call.ice", call_id=call_id, candidate="candidate:1")
    caller.expect("error", skip=NOISE, code="invalid")
    assert [f for f in callee.settle() if f["type"] not in NOISE] == []


def test_an_ice_flood_is_throttled_not_relayed(live_daphne, alice, bob, befriend, settings):
    caller, callee, call_id = answered_call(live_daphne, alice, bob, befriend(alice, bob))
    flood = settings.CALL_ICE_PER_MINUTE + 100
    for _ in range(flood):
        caller.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    answers = caller.settle()
    assert [f["code"] for f in answers if f["type"] == "error"] == ["rate_limited"] * 100
    relayed = [f for f in callee.drain(2) if f["type"] == "call.ice"]
    assert len(relayed) == settings.CALL_ICE_PER_MINUTE


def test_unanswered_calls_are_missed_and_left_unread(transactional_db, alice, bob, befriend):
    conversation = befriend(alice, bob)
    with own_daphne(CALL_RING_SECONDS="1", CALL_SWEEP_SECONDS="1") as server:
        caller = Socket.open(server, alice)
        with Socket.open(server, bob) as callee:
            call_id = invite(caller, conversation)
            callee.expect("call.incoming", skip=NOISE)
        # Bob went offline; the call rings out all the same.
        assert ended(caller, call_id, "missed", timeout=10)["body"] == "Missed voice call"
        chats = rest(server, bob, "GET", "/api/conversations/").json()
        chats = chats.get("results", chats) if isinstance(chats, dict) else chats
        assert next(c for c in chats if c["id"] == conversation.pk)["unread_count"] == 1
        # Back online, Bob's resume replays the record (the signalling is not replayed).
        with Socket.open(server, bob) as back:
            back.send(type="resume", after=0)
            replayed = back.until("resume.done")
            assert [f["message"]["body"] for f in replayed if f["type"] == "message.new"][-1] == "Missed voice call"
            assert not [f for f in replayed if f["type"].startswith("call.")]
    assert Message.objects.get(conversation=conversation, kind="call").sender == alice


def test_turn_credentials_follow_the_turn_rest_scheme():
    credentials = turn_credentials("alice", secret="s3cret", now=1_000, ttl=600)
    assert credentials["username"] == "1600:alice"
    digest = hmac.new(b"s3cret", b"1600:alice", hashlib.sha1).digest()
    assert credentials["credential"] == base64.b64encode(digest).decode()


def test_ice_servers_reach_the_browser_with_fresh_turn_credentials(transactional_db, alice):
    stun = [{"urls": ["stun:stun.example.org:3478"]}]
    env = {"ICE_SERVERS": json.dumps(stun), "TURN_SECRET": "s3cret", "TURN_URLS": "turn:turn.example.org:3478"}
    with own_daphne(**env) as server, Socket.open(server, alice) as socket:
        socket.send(type="call.config")
        servers = socket.expect("call.config")["ice_servers"]
    assert servers[0] == stun[0]
    turn = servers[1]
    assert turn["urls"] == ["turn:turn.example.org:3478"]
    expiry, name = turn["username"].split(":")
    assert name == "alice" and int(expiry) > 0
    digest = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()


def test_no_ice_servers_by_default(live_daphne, alice):
    with Socket.open(live_daphne, alice) as socket:
        socket.send(type="call.config")
        assert socket.expect("call.config")["ice_servers"] == []


def test_the_record_says_how_long_a_call_lasted():
    from datetime import UTC, datetime, timedelta

    from chat.calls import call_summary

    answered = datetime(2026, 1, 1, tzinfo=UTC)
    for seconds, words in ((151, "Video call · 2:31"), (3 * 3600 + 62, "Video call · 3:01:02")):
        call = Call(media="video", answered_at=answered, ended_at=answered + timedelta(seconds=seconds))
        assert call_summary(call, "hangup") == words
    assert call_summary(Call(media="voice"), "missed") == "Missed voice call"


def test_a_callee_who_hangs_up_while_it_rings_declines(live_daphne, alice, bob, befriend):
    caller, callee = Socket.open(live_daphne, alice), Socket.open(live_daphne, bob)
    call_id = invite(caller, befriend(alice, bob))
    callee.expect("call.incoming", skip=NOISE)
    callee.send(type="call.hangup", call_id=call_id)
    assert ended(caller, call_id, "declined")["body"] == "Declined voice call"


@pytest.fixture
def session_daphne_stopped(daphne_server):
    """On PostgreSQL + Redis the session's daphne is a Redis worker on the test database. Beside a
    worker without Redis its sweep finds that worker's heartbeat nowhere, so it ends that worker's
    calls itself and pushes the record through Redis, which the Redis-less worker never hears (the
    record then never reached the test's socket whenever a sweep fell between the kill and the
    restart). A deployment never mixes the two: the session's daphne is stopped meanwhile."""
    daphne_server.stop()
    yield
    daphne_server.start()


def test_on_the_embedded_default_a_restarted_worker_ends_its_predecessors_calls(
    transactional_db, session_daphne_stopped, alice, bob, befriend
):
    """One process, no shared cache (without REDIS_URL): a call rung by a process killed mid-ring is
    ended as failed by the next process, once its first socket opens. (The worker runs without Redis
    on either database; tests/chat/test_calls_cluster.py covers workers on Redis.)"""
    conversation = befriend(alice, bob)
    with own_daphne(REDIS_URL="") as server:
        caller, callee = Socket.open(server, alice), Socket.open(server, bob)
        call_id = invite(caller, conversation)
        callee.expect("call.incoming", skip=NOISE)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        # Down for longer than a sweep, as a real restart may be: nothing else may end the call meanwhile.
        time.sleep(settings.CALL_SWEEP_SECONDS + 1)
        server.start()
        with Socket.open(server, bob) as back:
            # A fresh process's first socket: on a loaded machine (CI runs two suites at once) its
            # first connect, which ends the calls, can take longer than the usual 5 s wait.
            assert record_frame(back, timeout=20)["body"] == "Failed voice call"
    assert Call.objects.get(pk=call_id).outcome == "failed"
