"""Notifications reach the recipient's socket with a seq, and replay renders them from the database."""

import pytest

from tests.factories import PostFactory
from tests.live import Socket, rest


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_follow_and_like_push_notification_frames_with_seq(daphne_server, alice, bob):
    post = PostFactory(author=alice, body="like this")
    with Socket.open(daphne_server, alice) as socket:
        assert rest(daphne_server, bob, "POST", "/api/users/alice/follow/").status == 200
        followed = socket.expect("notification", timeout=10)
        assert rest(daphne_server, bob, "POST", f"/api/posts/{post.pk}/like/").status == 200
        liked = socket.expect("notification", timeout=10)
    assert liked["seq"] == followed["seq"] + 1
    assert followed["notification"]["kind"] == "follow"
    assert followed["notification"]["actor"]["username"] == "bob"
    assert liked["notification"]["kind"] == "like"
    assert liked["notification"]["post"]["id"] == post.pk


@pytest.mark.django_db
def test_replay_renders_notifications_as_they_are_now(client_for, alice, bob):
    from realtime.selectors import replay_batch

    post = PostFactory(author=alice, body="soon gone")
    client_for(bob).post(f"/api/posts/{post.pk}/like/")
    client_for(bob).post("/api/users/alice/follow/")
    client_for(alice).delete(f"/api/posts/{post.pk}/")
    frames = replay_batch(viewer=alice, after=0, up_to=10)
    assert [(f["type"], f["seq"], f["notification"]["kind"]) for f in frames] == [
        ("notification", 1, "like"),
        ("notification", 2, "follow"),
    ]
    assert frames[0]["notification"]["post"] is None  # the post was deleted since
