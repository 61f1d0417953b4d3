"""The article pages without JavaScript (the editor's form saves and publishes), and the lists' query counts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from microblog.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_as(alice):
    client = Client()
    client.force_login(alice)
    return client


def test_the_editor_form_saves_a_draft_then_publishes_and_posts_it(alice, page_as):
    saved = page_as.post("/write/", {"title": "Plain form", "body": "No *script* needed.", "visibility": "public"})
    article = Article.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/write/{article.pk}/"
    assert article.status == "draft" and not Post.objects.exists()
    editor = page_as.get(f"/write/{article.pk}/").content.decode()
    assert "No *script* needed." in editor and "<em>script</em>" in editor  # the preview, server-rendered
    published = page_as.post(
        f"/write/{article.pk}/",
        {"title": "Plain form", "body": "No *script* needed.", "visibility": "followers", "share": "on", "publish": ""},
    )
    assert published.status_code == 302 and published["Location"] == f"/a/{article.pk}/"
    article.refresh_from_db()
    assert (article.status, article.visibility) == ("published", "followers")
    post = Post.objects.get(article=article)
    assert post.visibility == "followers"
    reading = page_as.get(f"/a/{article.pk}/").content.decode()
    assert "<em>script</em>" in reading and 'class="read-count">0</span> reads' in reading


def test_the_editor_shows_a_refusal_next_to_the_form(page_as):
    response = page_as.post("/write/", {"title": "   ", "body": "x", "visibility": "public"})
    assert response.status_code == 200
    assert "Give the article a title." in response.content.decode()
    assert not Article.objects.exists()


def test_someone_elses_article_cannot_be_edited_or_deleted(alice, bob, write_as):
    article = write_as(bob)
    client = Client()
    client.force_login(alice)
    assert client.get(f"/write/{article['id']}/").status_code == 404
    assert client.post(f"/a/{article['id']}/delete/").status_code == 404
    assert Article.objects.filter(pk=article["id"]).exists()


def test_the_home_form_posts_an_article_as_a_card(alice, page_as, write_as):
    article = write_as(alice, title="Carded", body="First lines here.")
    response = page_as.post("/", {"body": "", "visibility": "public", "article": article["id"]})
    assert response.status_code == 302
    home = page_as.get("/?order=latest").content.decode()
    assert 'class="card-post article-card"' in home and "First lines here." in home


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_lists_cost_the_same_few_queries_however_many_articles(alice, client_for, write_as, page_as):
    api = client_for(alice)

    def add(count):
        for number in range(count):
            article = write_as(alice, title=f"Piece {number}")
            assert api.post("/api/posts/", {"article": article["id"]}, format="json").status_code == 201

    add(2)
    few = {path: queries(api, path) for path in ("/api/articles/", "/api/timeline/public/", "/api/feed/?order=latest")}
    few["/"] = queries(page_as, "/?order=latest")
    add(8)
    many = {path: queries(api, path) for path in ("/api/articles/", "/api/timeline/public/", "/api/feed/?order=latest")}
    many["/"] = queries(page_as, "/?order=latest")
    assert many == few
