"""Microblog fixtures: a third person, and helpers that act through the public API."""

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
def befriend(db):
    """Chat contacts are mutual rows, made by chat's accept flow; here directly."""

    def make(a, b):
        Contact.objects.create(user=a, contact=b)
        Contact.objects.create(user=b, contact=a)

    return make


@pytest.fixture
def block(db):
    def make(blocker, blocked):
        Block.objects.create(blocker=blocker, blocked=blocked)

    return make
