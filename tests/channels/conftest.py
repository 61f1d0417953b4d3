"""Channel fixtures: a channel owned by `owner` with an editor, two of the owner's public articles,
and helpers that act through the API."""

import pytest


@pytest.fixture
def write_article(client_for):
    def create(user, title="A piece", visibility="public"):
        client = client_for(user)
        made = client.post(
            "/api/articles/", {"title": title, "body": "Words.", "visibility": visibility}, format="json"
        )
        assert made.status_code == 201, made.content
        published = client.post(f"/api/articles/{made.json()['id']}/publish/")
        assert published.status_code == 200, published.content
        return published.json()["id"]

    return create


@pytest.fixture
def station(make_user, client_for, write_article):
    owner = make_user(username="owner")
    editor = make_user(username="editor")
    reader = make_user(username="reader")
    made = client_for(owner).post(
        "/api/channels/", {"username": "teahouse", "display_name": "Tea House", "bio": "Leaves."}, format="json"
    )
    assert made.status_code == 201, made.content
    from chat.models import Channel

    channel = Channel.objects.get(account__username="teahouse")
    channel.editors.add(editor)
    articles = [write_article(owner, "Green"), write_article(owner, "Black")]
    return {"owner": owner, "editor": editor, "reader": reader, "channel": channel, "articles": articles}


@pytest.fixture
def broadcast_as(client_for):
    def send(user, articles, username="teahouse", title="This week", **fields):
        return client_for(user).post(
            f"/api/channels/{username}/broadcasts/", {"title": title, "articles": articles, **fields}, format="json"
        )

    return send
