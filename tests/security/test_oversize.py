"""Oversize input is refused before it is parsed or stored: bodies, JSON, socket frames; pages are capped."""

import json

import pytest
from django.conf import settings

from microblog.models import Hashtag, Post, PostTag
from tests.factories import PostFactory
from tests.live import WEBSOCKET_MAX_MESSAGE_SIZE, Socket

PAST_THE_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/posts/", "application/json"), ("/api/me/", "application/x-www-form-urlencoded")],
)
def test_api_bodies_past_the_limit_get_413_and_store_nothing(client_for, alice, path, content_type):
    body = (
        json.dumps({"body": "x" * PAST_THE_LIMIT})
        if content_type == "application/json"
        else "bio=" + "x" * PAST_THE_LIMIT
    )
    response = client_for(alice).generic("POST", path, body, content_type=content_type)
    assert response.status_code == 413
    assert not Post.objects.exists()


@pytest.mark.django_db
def test_a_body_without_content_length_is_still_bounded_by_the_parser(alice):
    from io import BytesIO

    from rest_framework.exceptions import APIException

    from config.parsers import StrictJSONParser

    with pytest.raises(APIException) as refused:
        StrictJSONParser().parse(BytesIO(b'"' + b"x" * PAST_THE_LIMIT + b'"'))
    assert refused.value.status_code == 413


@pytest.mark.django_db
def test_page_forms_past_the_limit_get_413(client, alice):
    client.force_login(alice)
    response = client.post("/", {"body": "x" * PAST_THE_LIMIT, "visibility": "public"})
    assert response.status_code == 413
    assert not Post.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_socket_messages_past_daphnes_limit_are_refused_and_smaller_long_frames_get_an_error(live_daphne, alice):
    with Socket.open(live_daphne, alice, max_size=None) as socket:
        socket.send_raw("x" * 20_000)  # past the consumer's 16,000 characters: an error, and the socket stays
        socket.expect("error", code="too_long")
        socket.send(type="ping")
        socket.expect("pong")
        socket.send_raw("x" * (WEBSOCKET_MAX_MESSAGE_SIZE + 1))
        # Daphne (autobahn) drops the connection as it reads past the limit, before the consumer sees it.
        assert socket.wait_closed()[:2] == (1006, [])
    with Socket.open(live_daphne, alice) as socket:  # the worker is fine
        socket.send(type="ping")
        socket.expect("pong")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/timeline/public/", "/api/users/alice/posts/", "/api/tags/many/posts/", "/api/posts/{first}/replies/"],
)
def test_list_pages_hold_at_most_100_whatever_the_limit_asked(client_for, alice, path):
    first = PostFactory(author=alice, body="first")
    tops = Post.objects.bulk_create([Post(author=alice, body=f"#many {n}") for n in range(105)])
    Post.objects.bulk_create([Post(author=alice, body=f"reply {n}", reply_to=first) for n in range(105)])
    hashtag = Hashtag.objects.create(name="many")
    PostTag.objects.bulk_create([PostTag(post=post, hashtag=hashtag) for post in tops])
    response = client_for(alice).get(path.format(first=first.pk), {"limit": 1000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


@pytest.mark.django_db
def test_feed_and_message_pages_are_capped_too(client_for, alice, bob, befriend):
    client = client_for(alice)
    assert client.get("/api/feed/", {"limit": 1000}).status_code == 400
    conversation = befriend(alice, bob)
    response = client.get(f"/api/conversations/{conversation.pk}/messages/", {"limit": 10**6})
    assert response.status_code == 200
    assert "limit=200" in (response.json()["older"] or "limit=200")
