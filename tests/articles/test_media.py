"""An article's cover and inline photos are served to whoever may read the article, and to nobody else."""

import pytest
from django.test import Client

from articles.models import Article
from tests.media.files import stored_photo, url

from .conftest import READERS, VIEWERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SERVE = "direct"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_covers_and_inline_photos_follow_the_articles_audience(article_world, media_root, viewer):
    author_client = article_world["clients"]["author"]
    photos = {}
    for kind, article_id in article_world["articles"].items():
        cover = stored_photo(article_world["people"]["author"])
        inline = stored_photo(article_world["people"]["author"])
        response = author_client.patch(
            f"/api/articles/{article_id}/", {"cover": cover.pk, "body": f"![seen]({url(inline)})"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["cover"]["id"] == cover.pk
        assert f'<img src="{url(inline)}"' in response.json()["html"]
        photos[kind] = (cover, inline)
    client = Client()
    if viewer != "anonymous":
        client.force_login(article_world["people"][viewer])
    for kind, pair in photos.items():
        for photo in pair:
            status = client.get(url(photo)).status_code
            assert status == (200 if viewer in READERS[kind] else 404), (kind, viewer)


def test_someone_elses_upload_cannot_be_a_cover(alice, bob, client_for, media_root):
    theirs = stored_photo(bob)
    response = client_for(alice).post("/api/articles/", {"title": "t", "cover": theirs.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "media_not_found")
    assert not Article.objects.exists()


def test_a_deleted_articles_photos_are_served_to_nobody(alice, client_for, media_root, write_as):
    article = write_as(alice)
    cover = stored_photo(alice)
    client = client_for(alice)
    assert client.patch(f"/api/articles/{article['id']}/", {"cover": cover.pk}, format="json").status_code == 200
    reader = Client()
    assert reader.get(url(cover)).status_code == 200
    assert client.delete(f"/api/articles/{article['id']}/").status_code == 204
    assert reader.get(url(cover)).status_code == 404
