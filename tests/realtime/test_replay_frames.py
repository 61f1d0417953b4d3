"""A replay shows each message as its reader's history shows it now: the prepared queries a
resume runs (chat.renderers, realtime.selectors) answer as the history page does, for a sender
with an avatar, photos, a reply, a shared post, a recall, a message hidden for the reader and a
block in a group."""

import pytest

from accounts.services import profile_update
from chat import services
from chat.services.hidden import message_hide
from microblog.services import post_create
from realtime.selectors import last_seq, replay_batch
from tests.media.ready import ready_media, use_media_root

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def said(settings, tmp_path, alice, bob, carol, befriend):
    """A group of alice, bob and carol after a few of everything; alice then hid one of carol's
    messages and blocked bob (who stays in the group, hidden from her and she from him)."""
    use_media_root(settings, tmp_path)
    befriend(alice, bob)
    befriend(alice, carol)
    group, _ = services.conversation_create(creator=alice, usernames=["bob", "carol"], title="Crew")
    profile_update(user=bob, avatar=ready_media(bob).pk)
    hello, _ = services.message_send(sender=bob, conversation=group, body="hello")
    services.message_send(sender=carol, conversation=group, body="answer", reply_to=hello.pk)
    photo = ready_media(alice)
    services.message_send(sender=alice, conversation=group, body="look", media=[photo.pk])
    post = post_create(author=carol, body="a public post")
    services.message_send(sender=carol, conversation=group, body="shared", shared_post=post.pk)
    oops, _ = services.message_send(sender=bob, conversation=group, body="oops")
    services.message_recall(user=bob, message_id=oops.pk)
    private, _ = services.message_send(sender=carol, conversation=group, body="hide me")
    message_hide(actor=alice, message_id=private.pk)
    services.block_create(user=alice, username="bob")
    return group


def replayed(viewer) -> list[dict]:
    frames = replay_batch(viewer=viewer, after=0, up_to=last_seq(viewer.pk), limit=100)
    return [frame for frame in frames if frame["type"] in ("message.new", "message.recalled")]


def history(client_for, viewer, group) -> dict[int, dict]:
    page = client_for(viewer).get(f"/api/conversations/{group.pk}/messages/").json()["results"]
    return {message["id"]: message for message in page}


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_a_replayed_message_is_the_message_its_reader_sees_in_the_history(client_for, said, who, request):
    viewer = request.getfixturevalue(who)
    shown = history(client_for, viewer, said)
    frames = replayed(viewer)

    seen = [frame["message"] for frame in frames if frame["message"] is not None]
    assert seen, "every reader sees some of the messages"
    for message in seen:
        assert message == shown[message["id"]]
    # Nothing replays that the reader's history leaves out (hidden, blocked): those come as null.
    assert {message["id"] for message in seen} == set(shown)


def test_the_replay_shows_the_senders_avatar_the_photos_the_reply_and_the_recall(said, carol):
    messages = {frame["message"]["body"]: frame["message"] for frame in replayed(carol) if frame["message"]}

    assert "/thumbnail" in messages["hello"]["sender"]["avatar_url"]
    assert len(messages["look"]["media"]) == 1
    assert messages["answer"]["reply_to"] == messages["hello"]["id"]
    assert messages["shared"]["shared_post"]["body"] == "a public post"
    assert messages[""]["recalled"] is True


def test_a_blocker_replays_the_blocked_members_group_messages_as_nothing(said, alice):
    frames = replayed(alice)
    bodies = [frame["message"]["body"] for frame in frames if frame["message"] is not None]

    assert "hello" not in bodies and "hide me" not in bodies
    assert "answer" in bodies
    answer = next(frame["message"] for frame in frames if frame["message"] and frame["message"]["body"] == "answer")
    assert answer["reply_to"] is None  # what it answers is bob's, hidden from her
