"""Microblog fixtures: a third person, helpers that act through the public API, and `world`, the
visibility matrix (who sees which post) that the visibility and feed tests share."""

import pytest

from accounts.models import Block, Contact


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def post_as(client_for):
    """Posts through the API as `user`; returns the post JSON (asserting 201)."""

    def create(user, body="hello", **fields):
        response = client_for(user).post("/api/posts/", {"body": body, **fields}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return create


@pytest.fixture
def follow(client_for):
    def make(follower, followee):
        response = client_for(follower).post(f"/api/users/{followee.username}/follow/")
        assert response.status_code == 200, response.content

    return make


@pytest.fixture
def contact_rows(db):
    """`contact_rows(a, b)`: the two Contact rows alone, written directly (no request, no direct
    conversation, no events): what the microblog reads of chat's contacts. For contacts made as
    people make them, the suite's `befriend`."""

    def make(a, b):
        Contact.objects.create(user=a, contact=b)
        Contact.objects.create(user=b, contact=a)

    return make


@pytest.fixture
def block(db):
    def make(blocker, blocked):
        Block.objects.create(blocker=blocker, blocked=blocked)

    return make


VIEWERS = ["author", "follower", "contact", "stranger", "blocked", "blocker", "anonymous"]
SEES = {
    "public": {"author", "follower", "contact", "stranger", "anonymous"},
    "followers": {"author", "follower"},
    "contacts": {"author", "contact"},
}


@pytest.fixture
def world(make_user, api, client_for, post_as, follow, contact_rows, block):
    """The author's public, followers-only and contacts-only posts, a follower's public reply to the
    followers-only one, and an API client for each kind of viewer in VIEWERS."""
    people = {name: make_user(username=name) for name in VIEWERS if name != "anonymous"}
    author = people["author"]
    follow(people["follower"], author)
    contact_rows(author, people["contact"])
    block(author, people["blocked"])
    block(people["blocker"], author)
    posts = {
        visibility: post_as(author, f"zebra{visibility} #Matrix", visibility=visibility)["id"] for visibility in SEES
    }
    # A public reply by the follower to the followers-only post: it stays among the author's followers.
    reply = post_as(people["follower"], "zebrareply #matrix", reply_to=posts["followers"])["id"]
    clients = {name: client_for(user) for name, user in people.items()}
    clients["anonymous"] = api
    return {"clients": clients, "posts": posts, "reply": reply}
