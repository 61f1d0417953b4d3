"""Notifications reach the recipient's socket with a seq, and replay renders them from the database."""

import json
import urllib.request

import pytest
from websockets.sync.client import connect

from accounts.services import token_for


def api_call(daphne_server, method: str, path: str, user, body: dict | None = None) -> int:
    """An API request to the live daphne, so its writes push through the server's own channel layer."""
    request = urllib.request.Request(
        daphne_server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token_for(user=user).key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_follow_and_like_push_notification_frames_with_seq(daphne_server, alice, bob):
    from microblog.services import post_create

    post = post_create(author=alice, body="like this")
    with connect(f"{daphne_server.ws_url}?token={token_for(user=alice).key}", open_timeout=5) as socket:
        assert api_call(daphne_server, "POST", "/api/users/alice/follow/", bob) == 200
        followed = json.loads(socket.recv(timeout=10))
        assert api_call(daphne_server, "POST", f"/api/posts/{post.pk}/like/", bob) == 200
        liked = json.loads(socket.recv(timeout=10))
    assert followed["type"] == liked["type"] == "notification"
    assert liked["seq"] == followed["seq"] + 1
    assert followed["notification"]["kind"] == "follow"
    assert followed["notification"]["actor"]["username"] == "bob"
    assert liked["notification"]["kind"] == "like"
    assert liked["notification"]["post"]["id"] == post.pk


@pytest.mark.django_db
def test_replay_renders_notifications_as_they_are_now(client_for, alice, bob):
    from microblog.services import post_create
    from realtime.selectors import replay_batch

    post = post_create(author=alice, body="soon gone")
    client_for(bob).post(f"/api/posts/{post.pk}/like/")
    client_for(bob).post("/api/users/alice/follow/")
    client_for(alice).delete(f"/api/posts/{post.pk}/")
    frames = replay_batch(viewer=alice, after=0, up_to=10)
    assert [(f["type"], f["seq"], f["notification"]["kind"]) for f in frames] == [
        ("notification", 1, "like"),
        ("notification", 2, "follow"),
    ]
    assert frames[0]["notification"]["post"] is None  # the post was deleted since
