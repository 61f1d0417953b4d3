"""Articles over REST: writing, autosaving, publishing, and who may read each one on every surface."""

import json

import pytest

from articles.models import Article
from articles.serializers import ArticleSerializer

from .conftest import READERS, VIEWERS

pytestmark = pytest.mark.django_db


def test_a_draft_is_written_edited_and_published(alice, client_for):
    client = client_for(alice)
    created = client.post(
        "/api/articles/", {"title": "  On tea  ", "body": "# Leaves\n\nGreen **and** black."}, format="json"
    )
    assert created.status_code == 201, created.content
    article = created.json()
    assert (article["title"], article["status"], article["visibility"]) == ("On tea", "draft", "public")
    assert article["html"] == "<h1>Leaves</h1>\n<p>Green <strong>and</strong> black.</p>\n"
    assert article["excerpt"] == "Leaves Green and black."
    edited = client.patch(f"/api/articles/{article['id']}/", {"body": "Oolong."}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["body"]) == ("On tea", "Oolong.")
    published = client.post(f"/api/articles/{article['id']}/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "published" and published.json()["published_at"]
    mine = client.get("/api/articles/")
    assert [row["id"] for row in mine.json()["results"]] == [article["id"]]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": ""}, None),
        ({"title": "   "}, "blank_title"),
        ({"title": "x" * 121}, None),
        ({"title": "ok", "body": "x" * 50_001}, None),
        ({"title": "ok", "visibility": "everyone"}, None),
        ({"title": "bad \ud800"}, None),
        ({"title": "ok", "cover": 999_999}, "media_not_found"),
    ],
)
def test_bad_articles_are_refused_with_a_reason_and_nothing_is_stored(alice, client_for, fields, code):
    # Raw JSON: a lone surrogate cannot pass through the test client's own encoder.
    response = client_for(alice).generic("POST", "/api/articles/", json.dumps(fields), content_type="application/json")
    assert response.status_code == 400, response.content
    if code:
        assert response.json()["code"] == code
    assert not Article.objects.exists()


def test_the_longest_article_is_taken(alice, client_for):
    response = client_for(alice).post("/api/articles/", {"title": "x" * 120, "body": "y" * 50_000}, format="json")
    assert response.status_code == 201


def test_a_published_article_keeps_its_visibility(alice, client_for, write_as):
    article = write_as(alice, visibility="followers")
    response = client_for(alice).patch(f"/api/articles/{article['id']}/", {"visibility": "public"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "visibility_fixed")
    assert Article.objects.get().visibility == "followers"


def test_only_the_author_changes_an_article(alice, bob, client_for, write_as):
    article = write_as(alice)
    for method, path in (
        ("patch", f"/api/articles/{article['id']}/"),
        ("delete", f"/api/articles/{article['id']}/"),
        ("post", f"/api/articles/{article['id']}/publish/"),
    ):
        response = getattr(client_for(bob), method)(path, {"title": "mine now"}, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "not_author")
    assert Article.objects.get().title == "A title"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_reads_exactly_the_articles_theirs_to_read(article_world, viewer):
    client = article_world["clients"][viewer]
    missing = client.get("/api/articles/987654321/")
    for kind, article_id in article_world["articles"].items():
        response = client.get(f"/api/articles/{article_id}/")
        if viewer in READERS[kind]:
            assert response.status_code == 200, (kind, response.content)
            assert f"canary-{kind}" in response.json()["body"]
        else:
            assert (response.status_code, response.json()) == (404, missing.json()), kind


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_post_carrying_an_article_shows_its_card_to_exactly_the_articles_readers(article_world, viewer):
    client = article_world["clients"][viewer]
    for kind, post_id in article_world["posts"].items():
        response = client.get(f"/api/posts/{post_id}/")
        if viewer in READERS[kind]:
            card = response.json()["article"]
            assert (card["id"], card["title"]) == (article_world["articles"][kind], f"The {kind} piece")
            assert card["excerpt"] == f"canary-{kind} text"
        else:
            assert response.status_code == 404


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_reading_page_honours_visibility(article_world, viewer, client):
    if viewer != "anonymous":
        client.force_login(article_world["people"][viewer])
    for kind, article_id in article_world["articles"].items():
        response = client.get(f"/a/{article_id}/")
        if viewer in READERS[kind]:
            assert response.status_code == 200
            assert f"canary-{kind}".encode() in response.content
        else:
            assert response.status_code == 404
            assert b"canary" not in response.content


@pytest.mark.parametrize("viewer", VIEWERS)
def test_search_finds_the_published_articles_each_reader_may_read(article_world, viewer):
    response = article_world["clients"][viewer].get("/api/articles/search/?q=canary")
    found = {row["id"] for row in response.json()}
    published = ("public", "followers", "contacts")
    expected = {article_world["articles"][kind] for kind in published if viewer in READERS[kind]}
    assert found == expected  # and never a draft, its author's included


def test_read_count_counts_each_signed_in_reader_once_and_not_the_author(article_world, client):
    article_id = article_world["articles"]["public"]
    people = article_world["people"]
    for reader in ("author", "follower", "follower", "stranger", "stranger"):
        client.force_login(people[reader])
        assert client.get(f"/a/{article_id}/").status_code == 200
    client.logout()
    client.get(f"/a/{article_id}/")
    assert Article.objects.get(pk=article_id).read_count == 2
    # A client app reading over the API counts the same way, once.
    for _ in range(2):
        answer = article_world["clients"]["contact"].get(f"/api/articles/{article_id}/")
    assert answer.json()["read_count"] == 3
    assert article_world["clients"]["author"].get(f"/api/articles/{article_id}/").json()["read_count"] == 3


def test_a_post_carries_only_its_authors_published_article_once(alice, bob, client_for, write_as):
    draft = write_as(alice, publish=False)
    published = write_as(alice, visibility="followers")
    bobs = write_as(bob)
    alice_client = client_for(alice)
    for article_id, code in (
        (draft["id"], "article_not_found"),
        (bobs["id"], "article_not_found"),
        (987654, "article_not_found"),
    ):
        response = alice_client.post("/api/posts/", {"article": article_id}, format="json")
        assert (response.status_code, response.json()["code"]) == (400, code)
    wider = alice_client.post("/api/posts/", {"article": published["id"], "visibility": "public"}, format="json")
    assert (wider.status_code, wider.json()["code"]) == (400, "article_visibility")
    first = alice_client.post("/api/posts/", {"article": published["id"], "body": "read this"}, format="json")
    assert first.status_code == 201 and first.json()["visibility"] == "followers"
    again = alice_client.post("/api/posts/", {"article": published["id"]}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "article_in_use")


def test_a_repost_of_a_post_carrying_an_article_shows_the_card_to_who_may_see_it(article_world, client_for, make_user):
    reposter = make_user(username="reposter")
    post_id = article_world["posts"]["public"]
    repost = client_for(reposter).post(f"/api/posts/{post_id}/repost/", {"comment": "good read"}, format="json")
    assert repost.status_code == 201
    assert repost.json()["original"] == post_id
    followers_post = article_world["posts"]["followers"]
    refused = client_for(reposter).post(f"/api/posts/{followers_post}/repost/")
    assert refused.status_code == 404
    for viewer in VIEWERS:
        client = article_world["clients"][viewer]
        response = client.get(f"/api/posts/{repost.json()['id']}/")
        if viewer in READERS["public"]:
            original = client.get(f"/api/posts/{response.json()['original']}/").json()
            assert original["article"]["id"] == article_world["articles"]["public"]
        else:
            assert response.status_code == 404


def test_deleting_an_article_leaves_its_post_without_a_card(article_world):
    author = article_world["clients"]["author"]
    article_id = article_world["articles"]["public"]
    assert author.delete(f"/api/articles/{article_id}/").status_code == 204
    assert author.get(f"/api/articles/{article_id}/").status_code == 404
    assert author.get(f"/api/posts/{article_world['posts']['public']}/").json()["article"] is None


def test_the_preview_renders_with_the_page_code_and_is_rate_limited(alice, client_for, settings):
    client = client_for(alice)
    response = client.post("/api/articles/preview/", {"body": "<script>x</script> **b**"}, format="json")
    assert response.json() == {"html": "<p>&lt;script&gt;x&lt;/script&gt; <strong>b</strong></p>\n"}
    from articles import services

    for _ in range(services.PREVIEWS_PER_MINUTE - 1):
        client.post("/api/articles/preview/", {"body": "x"}, format="json")
    limited = client.post("/api/articles/preview/", {"body": "x"}, format="json")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1


def test_seed_demo_writes_a_couple_of_articles_once(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    from chat.channel_demo import ARTICLES

    # Those of the demo channel (chat.channel_demo) are its own.
    articles = Article.objects.exclude(title__in=[title for title, _ in ARTICLES]).order_by("pk")
    assert [(a.author.username, a.visibility, a.status) for a in articles] == [
        ("alice", "public", "published"),
        ("bob", "followers", "published"),
    ]
    wall = articles[0]
    assert wall.cover is not None and wall.carrying_post.body.startswith("I wrote up our climb")
    # The inline photo is the article's, so its readers may fetch it.
    assert '<img src="/media/' in ArticleSerializer(wall).data["html"]
    from media.models import Media

    assert Media.objects.filter(attached_kind="article", attached_id=wall.pk).count() == 2
