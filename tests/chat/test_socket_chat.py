"""Chat over a real WebSocket against a live daphne: both ways, idempotent, resumable."""

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.models import Message
from chat.services import OutgoingMessage, message_send_many
from tests.live import Socket, own_daphne, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(alice, bob, befriend):
    return befriend(alice, bob)


def rest_post(server, user, path: str, body: dict) -> dict:
    """The JSON of a POST that must succeed."""
    return rest(server, user, "POST", path, body).json()


def test_two_users_chat_both_ways(daphne_server, alice, bob, pair):
    a, b = Socket.open(daphne_server, alice), Socket.open(daphne_server, bob)
    a.send(type="message.send", conversation=pair.pk, body="hi bob", client_id="a1")
    ack = a.expect("message.ack", skip=["presence", "message.new"])
    assert ack["client_id"] == "a1" and ack["message"]["body"] == "hi bob"
    received = b.expect("message.new", skip=["presence"])
    assert received["message"]["id"] == ack["message"]["id"]
    assert received["message"]["sender"]["username"] == "alice"
    assert received["seq"] >= 1

    b.send(type="read", conversation=pair.pk, up_to=ack["message"]["id"])
    read = a.expect("read", skip=["presence", "message.new"])
    assert (read["user"], read["up_to"]) == ("bob", ack["message"]["id"])
    b.send(type="typing", conversation=pair.pk)
    assert a.expect("typing") == {"type": "typing", "conversation": pair.pk, "user": "bob"}

    b.send(type="message.send", conversation=pair.pk, body="hi alice", client_id="b1")
    assert a.expect("message.new", body="hi alice")["message"]["sender"]["username"] == "bob"
    a.close()
    b.close()


def test_rest_and_socket_push_the_same_message_new(daphne_server, alice, bob, pair):
    b = Socket.open(daphne_server, bob)
    alice_other_tab = Socket.open(daphne_server, alice)
    sent = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "over REST"})
    assert b.expect("message.new", skip=["presence"])["message"] == sent
    assert alice_other_tab.expect("message.new")["message"] == sent


def test_a_non_member_cannot_send_and_nothing_is_stored(daphne_server, pair, make_user):
    mallory = Socket.open(daphne_server, make_user(username="mallory"))
    mallory.send(type="message.send", conversation=pair.pk, body="let me in", client_id="m1")
    error = mallory.expect("error")
    assert (error["code"], error["client_id"]) == ("not_found", "m1")
    mallory.send(type="message.send", conversation=10**9, body="x", client_id="m2")
    assert mallory.expect("error")["code"] == "not_found"
    mallory.send(type="ping")
    assert mallory.expect("pong")
    assert Message.objects.count() == 0


def test_the_same_client_id_over_the_socket_is_stored_once(daphne_server, alice, bob, pair):
    a, b = Socket.open(daphne_server, alice), Socket.open(daphne_server, bob)
    for _ in range(3):
        a.send(type="message.send", conversation=pair.pk, body="once", client_id="same")
    acks = [a.expect("message.ack", skip=["presence", "message.new"])["message"]["id"] for _ in range(3)]
    assert len(set(acks)) == 1
    assert Message.objects.count() == 1
    assert b.expect("message.new", skip=["presence"])["message"]["id"] == acks[0]
    b.send(type="ping")
    assert b.expect("pong")["type"] == "pong"  # no second message.new came before it
    a.settle()  # nor on the sender's socket, whose own push (for its other tabs) comes at most once
    assert {f["type"] for f in a.frames} <= {"presence", "message.ack", "message.new", "pong"}
    assert [f["message"]["id"] for f in a.frames if f["type"] == "message.new"] in ([], acks[:1])


def test_bad_message_frames_get_errors_and_store_nothing(daphne_server, alice, pair):
    a = Socket.open(daphne_server, alice)
    cases = [
        ({"type": "message.send", "conversation": pair.pk, "client_id": "x"}, "invalid"),
        ({"type": "message.send", "conversation": pair.pk, "body": "x"}, "missing_field"),
        ({"type": "message.send", "conversation": "1", "body": "x", "client_id": "y"}, "invalid"),
        ({"type": "message.send", "conversation": pair.pk, "body": "x" * 4001, "client_id": "z"}, "too_long"),
        ({"type": "read", "conversation": pair.pk, "up_to": "a"}, "invalid"),
        ({"type": "resume"}, "missing_field"),
    ]
    for frame, code in cases:
        a.send(**frame)
        assert a.expect("error")["code"] == code, frame
    assert Message.objects.count() == 0


def test_resume_replays_exactly_what_was_missed(daphne_server, alice, bob, pair):
    b = Socket.open(daphne_server, bob)
    b.send(type="resume", after=0)
    start = b.expect("resume.done", skip=["contact.request", "contact.accepted", "presence"])["last"]
    b.close()

    a = Socket.open(daphne_server, alice)
    for n in range(35):
        rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": f"rest {n}"})
    for n in range(15):  # within the socket's 20 messages a second
        a.send(type="message.send", conversation=pair.pk, body=f"socket {n}", client_id=f"s{n}")
        # Bob's "offline" (his socket closed above) may reach alice any time, later under load.
        a.expect("message.ack", skip=["message.new", "presence"])

    b = Socket.open(daphne_server, bob)
    b.send(type="resume", after=start)
    *frames, done = b.until("resume.done")
    assert [f["seq"] for f in frames] == list(range(start + 1, start + 51))
    assert [f["message"]["body"] for f in frames] == [f"rest {n}" for n in range(35)] + [
        f"socket {n}" for n in range(15)
    ]
    assert done["last"] == start + 50


def test_replay_shows_a_recalled_message_as_recalled(daphne_server, alice, bob, pair):
    sent = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "regret"})
    rest_post(daphne_server, alice, f"/api/messages/{sent['id']}/recall/", {})
    b = Socket.open(daphne_server, bob)
    b.send(type="resume", after=0)
    *frames, _ = b.until("resume.done")
    assert [f["type"] for f in frames][-2:] == ["message.new", "message.recalled"]
    assert all(f["message"]["body"] == "" and f["message"]["recalled"] for f in frames[-2:])
    assert "regret" not in json.dumps(frames)


def test_resume_from_the_future_or_too_old_asks_for_resync(daphne_server, alice, pair):
    from realtime.models import Event

    rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "one"})
    a = Socket.open(daphne_server, alice)
    a.send(type="resume", after=10**6)
    assert a.expect("resync")["last"] >= 1
    Event.objects.filter(user=alice).delete()
    a.send(type="resume", after=0)
    assert a.expect("resync")["type"] == "resync"


def test_contact_requests_and_acceptances_are_pushed_live(daphne_server, alice, bob):
    a, b = Socket.open(daphne_server, alice), Socket.open(daphne_server, bob)
    sent = rest_post(daphne_server, alice, "/api/contact-requests/", {"to": "bob", "note": "hello"})
    pushed = b.expect("contact.request")
    assert pushed["request"]["id"] == sent["id"] and pushed["request"]["note"] == "hello"
    accepted = rest_post(daphne_server, bob, f"/api/contact-requests/{sent['id']}/accept/", {})
    for side in (a, b):
        frame = side.expect("contact.accepted", skip=["presence"])
        assert frame["conversation_id"] == accepted["conversation_id"]
        assert frame["request"]["status"] == "accepted"


def test_pushes_that_came_live_before_a_resume_are_not_replayed_again(daphne_server, alice, bob, pair):
    b = Socket.open(daphne_server, bob)
    b.send(type="resume", after=0)
    start = b.expect("resume.done", skip=["contact.request", "contact.accepted", "presence"])["last"]
    rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "missed"})
    b.close()
    b = Socket.open(daphne_server, bob)
    live = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "live"})
    assert b.expect("message.new")["message"]["id"] == live["id"]  # pushed before the client resumes
    b.send(type="resume", after=start)
    *frames, done = b.until("resume.done")
    assert [f["message"]["body"] for f in frames] == ["missed"]  # "live" is not sent twice
    assert done["last"] == start + 2


# A daphne of this module's own with small limits, so the tests reach them in a few frames.
TIGHT = {"MESSAGES_PER_MINUTE": "30", "MAX_SOCKETS_PER_USER": "3", "CHAT_RESUMES_PER_MINUTE": "3"}


@pytest.fixture(scope="module")
def tight_server(django_db_setup):
    with own_daphne(**TIGHT) as server:
        yield server


def answers_to_sends(client: Socket, count: int) -> list[dict]:
    """The ack or error of each of `count` sends; the sender's own message.new pushes come in between."""
    answers = []
    while len(answers) < count:
        frame = client.recv()
        if frame["type"] in ("message.ack", "error"):
            answers.append(frame)
        else:
            assert frame["type"] in ("message.new", "presence"), frame
    return answers


def test_flooding_is_rate_limited_not_crashed(tight_server, alice, pair):
    a = Socket.open(tight_server, alice)
    for n in range(40):
        a.send(type="message.send", conversation=pair.pk, body=f"flood {n}", client_id=f"f{n}")
    answers = answers_to_sends(a, 40)
    limited = [f for f in answers if f["type"] == "error"]
    assert [f["code"] for f in limited] == ["rate_limited"] * 10, limited
    assert all(1 <= f["retry_after"] <= 60 and f["client_id"].startswith("f") for f in limited)
    assert Message.objects.count() == 30
    a.send(type="ping")
    assert a.expect("pong", skip=["message.new"])  # and the socket stays open


def test_rest_and_every_socket_take_from_one_message_budget(tight_server, alice, pair):
    """30 a minute per user: 20 over REST leave 10 for two sockets together, then REST is refused too."""
    for n in range(20):
        rest_post(tight_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": f"rest {n}"})
    tabs = [Socket.open(tight_server, alice) for _ in range(2)]
    for n in range(10):
        for index, tab in enumerate(tabs):
            tab.send(type="message.send", conversation=pair.pk, body=f"tab {index}.{n}", client_id=f"t{index}.{n}")
    answers = [frame for tab in tabs for frame in answers_to_sends(tab, 10)]
    acked = [f for f in answers if f["type"] == "message.ack"]
    limited = [f for f in answers if f["type"] == "error" and f["code"] == "rate_limited"]
    assert (len(acked), len(limited)) == (10, 10)
    refused = rest(tight_server, alice, "POST", f"/api/conversations/{pair.pk}/messages/", {"body": "one more"})
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert Message.objects.count() == 30


def ponged(client: Socket) -> bool:
    client.send(type="ping")
    return client.expect("pong", skip=["presence"])["type"] == "pong"


def test_sockets_past_the_per_user_cap_are_closed_with_4429(tight_server, alice, bob):
    held = [Socket.open(tight_server, alice) for _ in range(3)]
    assert all(ponged(client) for client in held)
    refused = Socket.open(tight_server, alice)  # accepted, then closed before any frame
    assert refused.wait_closed()[:2] == (4429, [])
    refused.close()
    assert ponged(Socket.open(tight_server, bob))  # a cap per user: others are not affected
    assert all(ponged(client) for client in held)  # nor the user's open sockets

    held[0].close()
    deadline = time.monotonic() + 5
    while True:  # the closed one is uncounted (a moment later: its close is handled after it)
        again = Socket.open(tight_server, alice)
        try:
            assert ponged(again)
            break
        except ConnectionClosed:
            again.close()
            assert time.monotonic() < deadline, "a closed socket still counts against the cap"
            time.sleep(0.1)
    again.close()


def test_a_refused_socket_is_told_why_not_answered_http_403(tight_server, alice):
    held = [Socket.open(tight_server, alice) for _ in range(3)]
    assert all(ponged(client) for client in held)
    try:
        fourth = Socket.open(tight_server, alice)
    except InvalidStatus as refused:  # pragma: no cover - what a close before accept would give
        pytest.fail(f"refused at the handshake: {refused}")
    assert fourth.wait_closed()[:2] == (4429, [])


def test_typing_is_limited_per_user_and_conversation_not_per_socket(tight_server, alice, bob, pair):
    tabs = [Socket.open(tight_server, alice) for _ in range(3)]
    watcher = Socket.open(tight_server, bob)
    assert all(ponged(client) for client in [*tabs, watcher])
    for _ in range(10):
        for tab in tabs:
            tab.send(type="typing", conversation=pair.pk)
    typing = watcher.drain(1.5)
    assert {f["type"] for f in typing} <= {"typing"}
    # 5 a second for alice in this conversation, however many sockets she types from (a burst
    # may fall into two of the counter's one-second windows); per socket it was 3 x 5.
    assert 1 <= len(typing) <= 10, len(typing)


def test_resumes_are_rate_limited_per_user(tight_server, alice, pair):
    a = Socket.open(tight_server, alice)
    for _ in range(3):
        a.send(type="resume", after=0)
        a.until("resume.done")
    a.send(type="resume", after=0)
    refused = a.expect("error")
    assert refused["code"] == "rate_limited" and 1 <= refused["retry_after"] <= 60
    assert ponged(a)


def test_one_resume_runs_at_a_time_per_socket(daphne_server, alice, bob, pair):
    sends = [OutgoingMessage(sender=bob, conversation_id=pair.pk, body=f"m{n}", client_id=f"m{n}") for n in range(300)]
    message_send_many(sends=sends)
    a = Socket.open(daphne_server, alice)
    a.send(type="resume", after=0)
    a.send(type="resume", after=0)
    *replayed, done = a.until("resume.done", timeout=20)
    busy = [f for f in replayed if f["type"] == "error"]
    assert [f["code"] for f in busy] == ["resume_in_progress"]
    seqs = [f["seq"] for f in replayed if "seq" in f]
    assert seqs == sorted(set(seqs)) and seqs[-1] == done["last"]  # one replay, in order, each once
    a.send(type="ping")
    assert a.expect("pong")
