"""Article fixtures: `article_world`, who may read which article, and helpers that act through the API."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Block, Contact
from microblog.models import Follow

VIEWERS = ["author", "follower", "contact", "stranger", "blocked", "anonymous"]
# Who may read each published article (and see the post carrying it); a draft: its author alone.
READERS = {
    "public": {"author", "follower", "contact", "stranger", "anonymous"},
    "followers": {"author", "follower"},
    "contacts": {"author", "contact"},
    "draft": {"author"},
}


@pytest.fixture
def write_as(client_for):
    """Creates (and by default publishes) an article through the API as `user`; returns its JSON."""

    def create(user, title="A title", body="Some *words*.", publish=True, **fields):
        client = client_for(user)
        response = client.post("/api/articles/", {"title": title, "body": body, **fields}, format="json")
        assert response.status_code == 201, response.content
        if publish:
            response = client.post(f"/api/articles/{response.json()['id']}/publish/")
            assert response.status_code == 200, response.content
        return response.json()

    return create


@pytest.fixture
def article_world(make_user, client_for, write_as):
    people = {role: make_user(username=role) for role in VIEWERS if role != "anonymous"}
    author = people["author"]
    Follow.objects.create(follower=people["follower"], followee=author)
    Contact.objects.create(user=author, contact=people["contact"])
    Contact.objects.create(user=people["contact"], contact=author)
    Block.objects.create(blocker=author, blocked=people["blocked"])
    articles, posts = {}, {}
    for visibility in ("public", "followers", "contacts"):
        article = write_as(
            author, title=f"The {visibility} piece", body=f"canary-{visibility} text", visibility=visibility
        )
        articles[visibility] = article["id"]
        response = client_for(author).post("/api/posts/", {"article": article["id"]}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["visibility"] == visibility
        posts[visibility] = response.json()["id"]
    articles["draft"] = write_as(author, title="The draft", body="canary-draft text", publish=False)["id"]
    clients = {role: client_for(user) for role, user in people.items()}
    clients["anonymous"] = APIClient()
    return {"people": people, "articles": articles, "posts": posts, "clients": clients}
