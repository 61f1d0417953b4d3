"""Chat over a real WebSocket against a live daphne: both ways, idempotent, resumable."""

import json
import urllib.request

import pytest

from accounts.services import token_for
from chat.models import Message

from .wsclient import SocketClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(alice, bob, befriend):
    return befriend(alice, bob)


@pytest.fixture
def socket_for():
    opened = []

    def open_socket(daphne_server, user) -> SocketClient:
        opened.append(SocketClient(daphne_server.ws_url, token_for(user=user).key))
        return opened[-1]

    yield open_socket
    for client in opened:
        client.close()


def rest_post(daphne_server, user, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{daphne_server.url}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token_for(user=user).key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_two_users_chat_both_ways(socket_for, daphne_server, alice, bob, pair):
    a, b = socket_for(daphne_server, alice), socket_for(daphne_server, bob)
    a.send(type="message.send", conversation=pair.pk, body="hi bob", client_id="a1")
    ack = a.expect("message.ack")
    assert ack["client_id"] == "a1" and ack["message"]["body"] == "hi bob"
    received = b.expect("message.new")
    assert received["message"]["id"] == ack["message"]["id"]
    assert received["message"]["sender"]["username"] == "alice"
    assert received["seq"] >= 1

    b.send(type="read", conversation=pair.pk, up_to=ack["message"]["id"])
    read = a.expect("read")
    assert (read["user"], read["up_to"]) == ("bob", ack["message"]["id"])
    b.send(type="typing", conversation=pair.pk)
    assert a.expect("typing") == {"type": "typing", "conversation": pair.pk, "user": "bob"}

    b.send(type="message.send", conversation=pair.pk, body="hi alice", client_id="b1")
    assert a.expect("message.new", body="hi alice")["message"]["sender"]["username"] == "bob"
    a.close()
    b.close()


def test_rest_and_socket_push_the_same_message_new(socket_for, daphne_server, alice, bob, pair):
    b = socket_for(daphne_server, bob)
    alice_other_tab = socket_for(daphne_server, alice)
    sent = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "over REST"})
    assert b.expect("message.new")["message"] == sent
    assert alice_other_tab.expect("message.new")["message"] == sent


def test_a_non_member_cannot_send_and_nothing_is_stored(socket_for, daphne_server, pair, make_user):
    mallory = socket_for(daphne_server, make_user(username="mallory"))
    mallory.send(type="message.send", conversation=pair.pk, body="let me in", client_id="m1")
    error = mallory.expect("error")
    assert (error["code"], error["client_id"]) == ("not_found", "m1")
    mallory.send(type="message.send", conversation=10**9, body="x", client_id="m2")
    assert mallory.expect("error")["code"] == "not_found"
    mallory.send(type="ping")
    assert mallory.expect("pong")
    assert Message.objects.count() == 0


def test_the_same_client_id_over_the_socket_is_stored_once(socket_for, daphne_server, alice, bob, pair):
    a, b = socket_for(daphne_server, alice), socket_for(daphne_server, bob)
    for _ in range(3):
        a.send(type="message.send", conversation=pair.pk, body="once", client_id="same")
    acks = [a.expect("message.ack")["message"]["id"] for _ in range(3)]
    assert len(set(acks)) == 1
    assert Message.objects.count() == 1
    assert b.expect("message.new")["message"]["id"] == acks[0]
    b.send(type="ping")
    assert b.expect("pong")["type"] == "pong"  # no second message.new came before it


def test_bad_message_frames_get_errors_and_store_nothing(socket_for, daphne_server, alice, pair):
    a = socket_for(daphne_server, alice)
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


def test_flooding_is_rate_limited_not_crashed(socket_for, daphne_server, alice, pair):
    a = socket_for(daphne_server, alice)
    for n in range(40):
        a.send(type="message.send", conversation=pair.pk, body=f"flood {n}", client_id=f"f{n}")
    answers = []  # one ack or error per send; our own message.new pushes come in between
    while len(answers) < 40:
        frame = a.recv()
        if frame["type"] in ("message.ack", "error"):
            answers.append(frame)
    limited = [f for f in answers if f["type"] == "error" and f["code"] == "rate_limited"]
    acked = [f for f in answers if f["type"] == "message.ack"]
    assert limited and acked, [(f["type"], f.get("code")) for f in answers]
    assert len(acked) + len(limited) == 40
    assert Message.objects.count() == len(acked)


def test_resume_replays_exactly_what_was_missed(socket_for, daphne_server, alice, bob, pair):
    b = socket_for(daphne_server, bob)
    b.send(type="resume", after=0)
    start = b.expect("resume.done")["last"]
    b.close()

    a = socket_for(daphne_server, alice)
    for n in range(35):
        rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": f"rest {n}"})
    for n in range(15):  # within the socket's 20 messages a second
        a.send(type="message.send", conversation=pair.pk, body=f"socket {n}", client_id=f"s{n}")
        a.expect("message.ack")

    b = socket_for(daphne_server, bob)
    b.send(type="resume", after=start)
    frames = []
    while (frame := b.recv())["type"] != "resume.done":
        frames.append(frame)
    assert [f["seq"] for f in frames] == list(range(start + 1, start + 51))
    assert [f["message"]["body"] for f in frames] == [f"rest {n}" for n in range(35)] + [
        f"socket {n}" for n in range(15)
    ]
    assert frame["last"] == start + 50


def test_replay_shows_a_recalled_message_as_recalled(socket_for, daphne_server, alice, bob, pair):
    sent = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "regret"})
    rest_post(daphne_server, alice, f"/api/messages/{sent['id']}/recall/", {})
    b = socket_for(daphne_server, bob)
    b.send(type="resume", after=0)
    frames = []
    while (frame := b.recv())["type"] != "resume.done":
        frames.append(frame)
    assert [f["type"] for f in frames][-2:] == ["message.new", "message.recalled"]
    assert all(f["message"]["body"] == "" and f["message"]["recalled"] for f in frames[-2:])
    assert "regret" not in json.dumps(frames)


def test_resume_from_the_future_or_too_old_asks_for_resync(socket_for, daphne_server, alice, pair):
    from realtime.models import Event

    rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "one"})
    a = socket_for(daphne_server, alice)
    a.send(type="resume", after=10**6)
    assert a.expect("resync")["last"] >= 1
    Event.objects.filter(user=alice).delete()
    a.send(type="resume", after=0)
    assert a.expect("resync")["type"] == "resync"


def test_contact_requests_and_acceptances_are_pushed_live(socket_for, daphne_server, alice, bob):
    a, b = socket_for(daphne_server, alice), socket_for(daphne_server, bob)
    sent = rest_post(daphne_server, alice, "/api/contact-requests/", {"to": "bob", "note": "hello"})
    pushed = b.expect("contact.request")
    assert pushed["request"]["id"] == sent["id"] and pushed["request"]["note"] == "hello"
    accepted = rest_post(daphne_server, bob, f"/api/contact-requests/{sent['id']}/accept/", {})
    for side in (a, b):
        frame = side.expect("contact.accepted")
        assert frame["conversation_id"] == accepted["conversation_id"]
        assert frame["request"]["status"] == "accepted"


def test_pushes_that_came_live_before_a_resume_are_not_replayed_again(socket_for, daphne_server, alice, bob, pair):
    b = socket_for(daphne_server, bob)
    b.send(type="resume", after=0)
    start = b.expect("resume.done")["last"]
    rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "missed"})
    b.close()
    b = socket_for(daphne_server, bob)
    live = rest_post(daphne_server, alice, f"/api/conversations/{pair.pk}/messages/", {"body": "live"})
    assert b.expect("message.new")["message"]["id"] == live["id"]  # pushed before the client resumes
    b.send(type="resume", after=start)
    frames = []
    while (frame := b.recv())["type"] != "resume.done":
        frames.append(frame)
    assert [f["message"]["body"] for f in frames] == ["missed"]  # "live" is not sent twice
    assert frame["last"] == start + 2


def test_a_second_socket_does_not_double_the_send_rate(socket_for, daphne_server, alice, pair):
    tabs = [socket_for(daphne_server, alice) for _ in range(2)]
    for n in range(25):
        for index, tab in enumerate(tabs):
            tab.send(type="message.send", conversation=pair.pk, body=f"tab {index} says {n}", client_id=f"t{index}-{n}")
    answers = []
    for tab in tabs:  # 25 answers each; pushes of either tab's messages come in between
        mine = 0
        while mine < 25:
            frame = tab.recv()
            if frame["type"] in ("message.ack", "error"):
                answers.append(frame)
                mine += 1
    limited = [f for f in answers if f["type"] == "error" and f["code"] == "rate_limited"]
    acked = [f for f in answers if f["type"] == "message.ack"]
    # 50 sends against one bucket of 20 a second: all would pass only if they trickled in over 1.5 s.
    assert limited, "two sockets together sent past the per-user rate"
    assert len(acked) + len(limited) == 50
    assert Message.objects.count() == len(acked)
