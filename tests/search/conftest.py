import pytest

from tests.factories import PostFactory


@pytest.fixture
def post(db):
    """Posts as `author` through post_create (the path people take); returns the post."""

    def make(author, body, visibility="public"):
        return PostFactory(author=author, body=body, visibility=visibility)

    return make


@pytest.fixture
def found(api):
    """The ids of the posts /api/search/ finds for `q` (as the client `as_client`, or a visitor)."""

    def ids(q, as_client=None):
        response = (as_client or api).get("/api/search/", {"q": q})
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()["posts"]]

    return ids
