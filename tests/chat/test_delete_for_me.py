"""Delete for me (issue 16): a message gone for one reader only, over REST, in history, the chat list,
the page and replays; the reader's other tabs hear of it, nobody else does."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.services import token_for
from chat import services
from chat.models import MessageHidden
from config.asgi import application
from realtime.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def chat(alice, bob, befriend):
    return befriend(alice, bob)


def say(client, conversation, body: str) -> dict:
    answer = client.post(f"/api/conversations/{conversation.pk}/messages/", {"body": body}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def bodies(client, conversation) -> list[str]:
    return [m["body"] for m in client.get(f"/api/conversations/{conversation.pk}/messages/").json()["results"]]


def hide(client, message_id):
    return client.post(f"/api/messages/{message_id}/hide/")


def listed(client, conversation) -> dict:
    return next(row for row in client.get("/api/conversations/").json() if row["id"] == conversation.pk)


def test_hiding_my_own_and_anothers_message_is_for_me_alone(client_for, alice, bob, chat):
    mine = say(client_for(alice), chat, "zq-mine")
    theirs = say(client_for(bob), chat, "zq-theirs")
    say(client_for(alice), chat, "zq-stays")
    for message in (mine, theirs):
        answer = hide(client_for(alice), message["id"])
        assert (answer.status_code, answer.content) == (204, b"")
    assert bodies(client_for(alice), chat) == ["zq-stays"]
    assert bodies(client_for(bob), chat) == ["zq-mine", "zq-theirs", "zq-stays"]
    # Alice's other tabs hear of each; Bob of neither.
    told = Event.objects.filter(type="message.hidden").order_by("seq")
    assert [(e.user_id, e.ref) for e in told] == [
        (alice.pk, {"conversation": chat.pk, "message": mine["id"]}),
        (alice.pk, {"conversation": chat.pk, "message": theirs["id"]}),
    ]


def test_a_recalled_message_may_be_hidden(client_for, alice, bob, chat):
    message = say(client_for(alice), chat, "zq-oops")
    assert client_for(alice).post(f"/api/messages/{message['id']}/recall/").status_code == 200
    assert hide(client_for(bob), message["id"]).status_code == 204
    assert bodies(client_for(bob), chat) == []
    assert [
        m["recalled"] for m in client_for(alice).get(f"/api/conversations/{chat.pk}/messages/").json()["results"]
    ] == [True]


def test_hiding_twice_is_hiding_once(client_for, alice, bob, chat):
    message = say(client_for(bob), chat, "zq-twice")
    for _ in range(2):
        assert hide(client_for(alice), message["id"]).status_code == 204
    assert MessageHidden.objects.filter(user=alice).count() == 1
    assert Event.objects.filter(type="message.hidden").count() == 1


def test_a_stranger_gets_the_404_of_a_missing_message_and_changes_nothing(client_for, alice, carol, chat):
    message = say(client_for(alice), chat, "zq-private")
    stranger = hide(client_for(carol), message["id"])
    missing = hide(client_for(carol), 999999)
    nonsense = hide(client_for(carol), "nope")
    huge = hide(client_for(carol), 2**70)
    assert stranger.status_code == missing.status_code == nonsense.status_code == huge.status_code == 404
    assert stranger.json() == missing.json()
    assert not MessageHidden.objects.exists()
    assert not Event.objects.filter(type="message.hidden").exists()


def test_the_chat_list_and_unread_count_skip_a_hidden_message(client_for, alice, bob, chat):
    say(client_for(bob), chat, "zq-first")
    last = say(client_for(bob), chat, "zq-last")
    assert (
        listed(client_for(alice), chat)["unread_count"],
        listed(client_for(alice), chat)["last_message"]["body"],
    ) == (
        2,
        "zq-last",
    )
    hide(client_for(alice), last["id"])
    row = listed(client_for(alice), chat)
    assert (row["unread_count"], row["last_message"]["body"]) == (1, "zq-first")
    assert listed(client_for(bob), chat)["last_message"]["body"] == "zq-last"


def test_the_page_leaves_a_hidden_message_out(client, client_for, alice, bob, chat):
    hidden = say(client_for(bob), chat, "zq-gone-for-alice")
    say(client_for(bob), chat, "zq-kept")
    hide(client_for(alice), hidden["id"])
    client.force_login(alice)
    page = client.get(f"/chat/{chat.pk}/").content.decode()
    assert "zq-kept" in page and "zq-gone-for-alice" not in page
    client.force_login(bob)
    assert "zq-gone-for-alice" in client.get(f"/chat/{chat.pk}/").content.decode()


# Committed: the socket's token is looked up in the connect thread, on a connection of its own.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_threads_close_connections")
def test_a_replay_renders_a_hidden_message_as_nothing_and_replays_the_hide(alice, bob, chat):
    hidden, _ = services.message_send(sender=bob, conversation=chat, body="zq-replay-gone")
    services.message_send(sender=bob, conversation=chat, body="zq-replay-kept")
    services.message_hide(actor=alice, message_id=hidden.pk)
    communicator = WebsocketCommunicator(application, f"/ws/?token={token_for(user=alice).key}")

    async def scenario():
        assert (await communicator.connect())[0]
        await communicator.send_to(text_data=json.dumps({"type": "resume", "after": 0}))
        frames = []
        while not frames or frames[-1]["type"] != "resume.done":
            frames.append(json.loads(await communicator.receive_from(timeout=10)))
        await communicator.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    messages = [frame["message"] for frame in frames if frame["type"] == "message.new"]
    assert [message and message["body"] for message in messages] == [None, "zq-replay-kept"]
    assert "zq-replay-gone" not in json.dumps(frames)
    [told] = [frame for frame in frames if frame["type"] == "message.hidden"]
    assert (told["conversation"], told["message"]) == (chat.pk, hidden.pk)


def test_a_recall_after_the_hide_is_not_announced_to_the_one_who_hid_it(alice, bob, chat):
    message, _ = services.message_send(sender=bob, conversation=chat, body="zq-recall-later")
    services.message_hide(actor=alice, message_id=message.pk)
    services.message_recall(user=bob, message_id=message.pk)
    assert not Event.objects.filter(user=alice, type="message.recalled").exists()
    assert Event.objects.filter(user=bob, type="message.recalled").exists()
