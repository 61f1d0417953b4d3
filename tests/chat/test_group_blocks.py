"""A block and the groups: nobody can be put in a group with someone who blocked them (or whom
they blocked), and in a group both already share, each is hidden from the other.

Refusals read exactly as a non-contact's, so they do not tell that a block exists. In a shared
group the two stay members; neither sees the other's messages there (history, the list's
last message and unread count, live pushes, replays, replies, typing, read marks).
"""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import token_for
from chat import services
from chat.models import Membership, Message
from chat.visibility import readers_of
from config.asgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def dora(make_user):
    return make_user(username="dora")


def refusal_without_name(response, name: str) -> tuple[int, dict]:
    """The refusal with the refused name taken out, to compare a blocked person's with a stranger's."""
    return response.status_code, {key: value.replace(name, "<name>") for key, value in response.json().items()}


def test_the_blocked_cannot_make_a_group_with_the_blocker_and_the_refusal_tells_nothing(
    client_for, alice, bob, dora, befriend
):
    befriend(alice, bob)
    assert client_for(alice).post("/api/blocks/", {"username": "bob"}, format="json").status_code == 201
    as_bob = client_for(bob)

    refused = as_bob.post("/api/conversations/", {"members": ["alice"], "title": "x"}, format="json")
    stranger = as_bob.post("/api/conversations/", {"members": ["dora"], "title": "x"}, format="json")
    assert refused.status_code == 400
    assert refusal_without_name(refused, "alice") == refusal_without_name(stranger, "dora")
    # Nor the other way round, nor without a title (the direct conversation), nor among others.
    assert (
        client_for(alice).post("/api/conversations/", {"members": ["bob"], "title": "x"}, format="json").status_code
        == 400
    )
    assert as_bob.post("/api/conversations/", {"members": ["alice"]}, format="json").status_code == 400
    assert not Membership.objects.filter(user=alice, conversation__kind="group").exists()


def test_the_blocked_cannot_add_the_blocker_to_a_group_they_run(client_for, alice, bob, carol, dora, befriend):
    befriend(alice, bob)
    befriend(bob, carol)
    group = client_for(bob).post("/api/conversations/", {"members": ["carol"], "title": "Bob's"}, format="json").json()
    assert client_for(alice).post("/api/blocks/", {"username": "bob"}, format="json").status_code == 201

    url = f"/api/conversations/{group['id']}/members/"
    refused = client_for(bob).post(url, {"usernames": ["alice"]}, format="json")
    stranger = client_for(bob).post(url, {"usernames": ["dora"]}, format="json")
    assert refused.status_code == 400
    assert refusal_without_name(refused, "alice") == refusal_without_name(stranger, "dora")
    assert not Membership.objects.filter(user=alice, conversation_id=group["id"]).exists()


@pytest.fixture
def shared_group(alice, bob, carol, befriend):
    """A group of alice (admin), bob and carol."""
    befriend(alice, bob)
    befriend(alice, carol)
    group, _ = services.conversation_create(creator=alice, usernames=["bob", "carol"], title="Crew")
    return group


def bodies(client, group) -> list[str]:
    return [m["body"] for m in client.get(f"/api/conversations/{group.pk}/messages/").json()["results"]]


def listed(client, group) -> dict:
    return next(row for row in client.get("/api/conversations/").json() if row["id"] == group.pk)


def test_in_a_shared_group_a_block_hides_each_from_the_other_and_lifting_it_shows_them_again(
    client_for, alice, bob, carol, shared_group
):
    as_alice, as_bob, as_carol = client_for(alice), client_for(bob), client_for(carol)
    url = f"/api/conversations/{shared_group.pk}/messages/"
    first = as_alice.post(url, {"body": "hello crew"}, format="json").json()
    assert as_alice.post("/api/blocks/", {"username": "bob"}, format="json").status_code == 201

    assert as_bob.post(url, {"body": "from bob"}, format="json").status_code == 201  # the group stays
    # bob no longer sees alice's messages, so he may not reply to one (the answer for another conversation's).
    refused = as_bob.post(url, {"body": "re", "reply_to": first["id"]}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    assert as_alice.post(url, {"body": "from alice"}, format="json").status_code == 201
    assert as_bob.post(url, {"body": "re"}, format="json").status_code == 201

    assert bodies(as_alice, shared_group) == ["hello crew", "from alice"]
    assert "from alice" not in bodies(as_bob, shared_group)
    assert bodies(as_carol, shared_group) == ["hello crew", "from bob", "from alice", "re"]
    # The list: alice's last message is her own, no unread from bob; bob's is his own.
    assert listed(as_alice, shared_group)["last_message"]["body"] == "from alice"
    assert listed(as_alice, shared_group)["unread_count"] == 0
    assert listed(as_bob, shared_group)["last_message"]["body"] == "re"
    assert listed(as_carol, shared_group)["unread_count"] == 4
    # Both stay members, shown as such.
    assert {m["username"] for m in listed(as_alice, shared_group)["members"]} == {"alice", "bob", "carol"}

    assert as_alice.delete("/api/blocks/bob/").status_code == 204
    assert bodies(as_alice, shared_group) == ["hello crew", "from bob", "from alice", "re"]
    assert listed(as_alice, shared_group)["unread_count"] == 1  # "re": "from bob" came before alice's own


def test_replies_to_a_hidden_message_show_no_preview(client_for, alice, bob, carol, shared_group):
    """carol answers bob: alice, who blocked bob, sees carol's answer without what it answers."""
    url = f"/api/conversations/{shared_group.pk}/messages/"
    from_bob = client_for(bob).post(url, {"body": "from bob"}, format="json").json()
    assert client_for(alice).post("/api/blocks/", {"username": "bob"}, format="json").status_code == 201
    answer = client_for(carol).post(url, {"body": "yes bob", "reply_to": from_bob["id"]}, format="json").json()
    assert answer["reply_to"] == from_bob["id"]
    [seen] = client_for(alice).get(url).json()["results"]
    assert (seen["body"], seen["reply_to"]) == ("yes bob", None)
    # And alice may not reply to what she does not see: the answer for a message of another conversation.
    mine = client_for(alice).post(url, {"body": "re", "reply_to": from_bob["id"]}, format="json")
    assert mine.status_code == 400 and mine.json()["code"] == "invalid"


def communicator_for(user) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/?token={token_for(user=user).key}")


async def heard(communicator, *, count: int | None = None) -> list[str]:
    """The types of the frames heard (presence left out): `count` of them, or all until 0.5 s of silence."""
    types = []
    while count is None or len(types) < count:
        if count is None and await communicator.receive_nothing(timeout=0.5):
            return types
        frame = json.loads(await communicator.receive_from(timeout=10))
        if frame["type"] != "presence":
            types.append(frame["type"])
    return types


async def frames_until(communicator, frame_type: str) -> list[dict]:
    frames = []
    while True:
        frames.append(json.loads(await communicator.receive_from(timeout=10)))
        if frames[-1]["type"] == frame_type:
            return frames


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_threads_close_connections")
def test_a_blocked_members_group_messages_are_not_pushed_or_replayed_to_the_blocker(alice, bob, carol, shared_group):
    services.message_send(sender=bob, conversation=shared_group, body="before the block")
    services.block_create(user=alice, username="bob")
    as_alice, as_carol = communicator_for(alice), communicator_for(carol)

    async def scenario():
        assert (await as_alice.connect())[0] and (await as_carol.connect())[0]
        await database_sync_to_async(services.message_send)(sender=bob, conversation=shared_group, body="after")
        await database_sync_to_async(services.typing_send)(user=bob, conversation=shared_group)
        carol_heard = await heard(as_carol, count=2)
        alice_heard = await heard(as_alice)
        await as_alice.send_to(text_data=json.dumps({"type": "resume", "after": 0}))
        replayed = await frames_until(as_alice, "resume.done")
        await as_alice.disconnect()
        await as_carol.disconnect()
        return carol_heard, alice_heard, replayed

    carol_heard, alice_heard, replayed = async_to_sync(scenario)()
    assert carol_heard == ["message.new", "typing"]
    assert alice_heard == []
    messages = [frame["message"] for frame in replayed if frame["type"] == "message.new"]
    # The event stored before the block replays as nothing; none was stored after it.
    assert messages == [None]
    assert "before the block" not in json.dumps(replayed) and "after" not in json.dumps(messages)


def test_a_hidden_members_message_does_not_move_the_group_up_the_blockers_list(
    client_for, alice, bob, carol, shared_group
):
    as_alice = client_for(alice)
    services.message_send(sender=alice, conversation=shared_group, body="in the group")
    with_carol = services.direct_conversation_get_or_create(alice, carol)
    services.message_send(sender=alice, conversation=with_carol, body="later, to carol")
    services.block_create(user=alice, username="bob")
    services.message_send(sender=bob, conversation=shared_group, body="hidden from alice")
    order = [row["id"] for row in as_alice.get("/api/conversations/").json()]
    assert order.index(with_carol.pk) < order.index(shared_group.pk)
    # carol, who sees bob's message, finds the group on top.
    assert client_for(carol).get("/api/conversations/").json()[0]["id"] == shared_group.pk


def test_who_hears_of_a_recall_costs_one_query_and_keeps_the_block_rule(
    alice, bob, carol, shared_group, django_assert_num_queries
):
    """readers_of (a recall's audience): in a group a block hides the two from each other, in a
    direct conversation it does not; one query either way, the conversation loaded or not."""
    direct = services.direct_conversation_get_or_create(alice, bob)
    in_direct, _ = services.message_send(sender=bob, conversation=direct, body="before the block")
    services.block_create(user=alice, username="bob")
    in_group, _ = services.message_send(sender=bob, conversation=shared_group, body="hidden from alice")
    for sent, readers in ((in_group, {bob.pk, carol.pk}), (in_direct, {alice.pk, bob.pk})):
        loaded = Message.objects.select_related("conversation").get(pk=sent.pk)
        for message in (Message.objects.get(pk=sent.pk), loaded):
            with django_assert_num_queries(1):
                assert set(readers_of(message)) == readers
