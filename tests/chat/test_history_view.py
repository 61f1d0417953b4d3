"""Each membership sees the conversation from where it began: a new member reads nothing said
before they joined, and one removed and added again reads nothing from before the new start
(the gap included). Messages, the list's last message and unread count, reply previews,
replays, recall and read marks, and live card pushes all follow it.
"""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.services import token_for
from chat import services
from config.asgi import application
from microblog.services import post_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def group(alice, bob, carol, befriend):
    """alice (admin) and bob; carol is alice's contact, not yet in the group."""
    befriend(alice, bob)
    befriend(alice, carol)
    conversation, _ = services.conversation_create(creator=alice, usernames=["bob"], title="Crew")
    return conversation


def say(client, group, body, **fields) -> dict:
    answer = client.post(f"/api/conversations/{group.pk}/messages/", {"body": body, **fields}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def bodies(client, group) -> list[str]:
    return [m["body"] for m in client.get(f"/api/conversations/{group.pk}/messages/").json()["results"]]


def listed(client, group) -> dict:
    return next(row for row in client.get("/api/conversations/").json() if row["id"] == group.pk)


def add(client, group, username):
    answer = client.post(f"/api/conversations/{group.pk}/members/", {"usernames": [username]}, format="json")
    assert answer.status_code == 200


def test_a_new_member_reads_nothing_from_before_they_joined(client_for, alice, bob, carol, group):
    as_alice, as_carol = client_for(alice), client_for(carol)
    secret = say(as_alice, group, "before carol")
    add(as_alice, group, "carol")

    assert bodies(as_carol, group) == []
    row = listed(as_carol, group)
    assert (row["last_message"], row["unread_count"]) == (None, 0)
    assert client_for(carol).get(f"/api/conversations/{group.pk}/").json()["last_message"] is None

    answer = say(client_for(bob), group, "welcome carol", reply_to=secret["id"])
    [seen] = client_for(carol).get(f"/api/conversations/{group.pk}/messages/").json()["results"]
    assert (seen["body"], seen["reply_to"]) == ("welcome carol", None)  # no preview of what came before
    assert (
        client_for(alice).get(f"/api/conversations/{group.pk}/messages/").json()["results"][-1]["reply_to"]
        == (secret["id"])
    )
    assert listed(as_carol, group)["unread_count"] == 1
    # A message from before is not carol's to reply to, mark read up to, or find by paging back.
    refused = as_carol.post(
        f"/api/conversations/{group.pk}/messages/", {"body": "re", "reply_to": secret["id"]}, format="json"
    )
    assert refused.status_code == 400
    read = as_carol.post(f"/api/conversations/{group.pk}/read/", {"up_to": secret["id"]}, format="json")
    assert read.status_code == 400
    older = as_carol.get(f"/api/conversations/{group.pk}/messages/?before={answer['id']}").json()
    assert older["results"] == [] and older["older"] is None
    # Recalling someone else's message from before: the answer for a message that does not exist.
    assert as_carol.post(f"/api/messages/{secret['id']}/recall/").status_code == 404
    assert as_carol.post("/api/messages/999999999/recall/").status_code == 404


def test_removed_and_added_again_the_gap_stays_closed(client_for, alice, bob, carol, group):
    as_alice, as_carol = client_for(alice), client_for(carol)
    add(as_alice, group, "carol")
    say(as_alice, group, "while carol is here")
    assert as_alice.delete(f"/api/conversations/{group.pk}/members/carol/").status_code == 204
    say(as_alice, group, "while carol is out")
    add(as_alice, group, "carol")
    say(as_alice, group, "carol is back")

    # The view starts afresh: the gap is closed, and so is what came before it.
    assert bodies(as_carol, group) == ["carol is back"]
    assert listed(as_carol, group)["unread_count"] == 1
    assert bodies(as_alice, group) == ["while carol is here", "while carol is out", "carol is back"]


def test_the_page_shows_a_new_member_nothing_from_before(client, alice, carol, group):
    services.message_send(sender=alice, conversation=group, body="zq-before-carol")
    services.group_members_add(user=alice, conversation=group, usernames=["carol"])
    client.force_login(carol)
    for path in ("/chat/", f"/chat/{group.pk}/"):
        page = client.get(path)
        assert page.status_code == 200 and "zq-before-carol" not in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_threads_close_connections")
def test_a_replay_after_a_re_add_renders_nothing_from_the_closed_part(alice, bob, carol, group):
    """carol got the first message live while a member; after leaving and coming back, resuming
    from 0 replays it as nothing: replays render things as the reader may see them now."""
    services.group_members_add(user=alice, conversation=group, usernames=["carol"])
    services.message_send(sender=alice, conversation=group, body="zq-first-stay")
    services.group_member_remove(user=carol, conversation=group, username="carol")
    services.group_members_add(user=alice, conversation=group, usernames=["carol"])
    services.message_send(sender=alice, conversation=group, body="zq-second-stay")
    communicator = WebsocketCommunicator(application, f"/ws/?token={token_for(user=carol).key}")

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
    assert [message and message["body"] for message in messages] == [None, "zq-second-stay"]
    assert "zq-first-stay" not in json.dumps(frames)


def test_a_recall_from_before_a_member_joined_is_not_announced_to_them(alice, carol, group):
    from realtime.models import Event

    message, _ = services.message_send(sender=alice, conversation=group, body="before")
    services.group_members_add(user=alice, conversation=group, usernames=["carol"])
    services.message_recall(user=alice, message_id=message.pk)
    assert not Event.objects.filter(user=carol, type="message.recalled").exists()
    assert Event.objects.filter(user=alice, type="message.recalled").exists()


def test_card_updates_reach_only_members_who_see_the_message_that_shared_the_post(alice, carol, group, monkeypatch):
    from django.core.cache import cache

    from chat import cards

    post = post_create(author=alice, body="shared before carol", visibility="public")
    services.message_send(sender=alice, conversation=group, body="", shared_post=post.pk)
    services.group_members_add(user=alice, conversation=group, usernames=["carol"])
    sent = []
    monkeypatch.setattr(cards, "ephemeral_send", lambda *, user_ids, frame: sent.append(set(user_ids)))
    for person in group.memberships.values_list("user_id", flat=True):
        cache.set(f"presence:count:{person}", 1)
    cards.shared_cards_push([post.pk])
    assert sent and carol.pk not in set().union(*sent)
