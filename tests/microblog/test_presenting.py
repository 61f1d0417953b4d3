"""Post lists are presented by hand (`serializers.post_json`, `presenting.present_posts`) rather than
field by field through DRF: the hand-written shapes must be exactly what PostSerializer's declared
fields give, for every kind of post, and the feed's answer exactly what DRF's serializers give."""

import json

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from accounts.models import Verification
from articles.models import Article
from media.models import Media
from microblog.models import Post
from microblog.selectors import posts_with_media
from microblog.serializers import PostSerializer
from search.serializers import PostHitSerializer


def _declared(serializer_class, post) -> dict:
    """What DRF's generic ModelSerializer path gives for the declared fields (the reference)."""
    return json.loads(json.dumps(drf.ModelSerializer.to_representation(serializer_class(), post), default=str))


def _as_json(data) -> dict:
    return json.loads(json.dumps(data, default=str))


def _photo(owner, *, attached_to=None, position=0, ready=True, **fields) -> Media:
    media = Media.objects.create(
        owner=owner,
        status=Media.Status.READY if ready else Media.Status.PROCESSING,
        width=640,
        height=480,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        size=1234,
        alt="a photo",
        display_name="d.webp",
        thumbnail_name="t.webp" if ready else "",
        **fields,
    )
    if attached_to is not None:
        Media.objects.filter(pk=media.pk).update(
            attached_kind="post", attached_id=attached_to, position=position, attached_at=timezone.now()
        )
    return media


@pytest.fixture
def varied(make_user, client_for, post_as, follow):
    """Posts of every shape a list may hold, seen by `viewer`: plain, tagged and mentioning, with
    photos (one still processing), a reply, a plain repost and a repost with a comment of a post
    with photos, a repost of a deleted post, a post carrying an article with a cover, a verified
    author with an uploaded avatar, the viewer's own liked, reposted and bookmarked flags."""
    author = make_user(username="writer", display_name="Wri Ter")
    viewer = make_user(username="reader")
    follow(viewer, author)
    plain = post_as(author, "hello #Tag @reader")["id"]
    photos = post_as(author, "with photos")["id"]
    _photo(author, attached_to=photos, position=0)
    _photo(author, attached_to=photos, position=1, ready=False)
    reply = post_as(viewer, "a reply", reply_to=plain)["id"]
    reposted = client_for(viewer).post(f"/api/posts/{photos}/repost/", {}, format="json").json()["id"]
    commented = client_for(viewer).post(f"/api/posts/{photos}/repost/", {"comment": "look"}, format="json")
    gone = post_as(author, "soon deleted")["id"]
    of_gone = client_for(viewer).post(f"/api/posts/{gone}/repost/", {}, format="json").json()["id"]
    assert client_for(author).delete(f"/api/posts/{gone}/").status_code == 204
    cover = _photo(author)
    article = Article.objects.create(
        author=author,
        title="A title",
        body="Body",
        excerpt="Body",
        cover=cover,
        status=Article.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    carrying = post_as(author, "", article=article.pk)["id"]
    client_for(viewer).post(f"/api/posts/{plain}/like/")
    client_for(viewer).post(f"/api/posts/{plain}/bookmark/")
    author.verification = Verification.IDENTITY
    author.avatar = _photo(author)
    author.save()
    ids = [plain, photos, reply, reposted, commented.json()["id"], of_gone, carrying]
    return viewer, ids


def test_a_post_list_presents_exactly_what_the_declared_fields_give(varied):
    viewer, ids = varied
    posts = posts_with_media(
        Post.objects.presented_to(viewer).select_related("original__author").filter(pk__in=ids).order_by("id")
    )
    assert len(posts) == len(ids)
    for post in posts:
        assert _as_json(PostSerializer(post).data) == _declared(PostSerializer, post)
        post.highlight = "<mark>x</mark>"
        assert _as_json(PostHitSerializer(post).data) == _declared(PostHitSerializer, post)


def test_a_post_fetched_alone_presents_its_photos_too(varied):
    viewer, ids = varied
    post = Post.objects.presented_to(viewer).get(pk=ids[1])
    data = _as_json(PostSerializer(post).data)
    assert [item["status"] for item in data["media"]] == ["ready", "processing"]
    assert data == _declared(PostSerializer, Post.objects.presented_to(viewer).get(pk=ids[1]))


@pytest.mark.parametrize("order", ["ranked", "latest"])
def test_the_feed_presents_each_post_as_the_declared_fields_give(varied, client_for, order):
    viewer, ids = varied
    body = client_for(viewer).get(f"/api/feed/?order={order}").json()
    shown = {item["post"]["id"]: item for item in body["results"]}
    # The ranked feed shows a plain repost as its original; nothing shows a repost of a deleted post.
    assert set(ids) - set(shown) <= {ids[3], ids[5]}
    posts = posts_with_media(Post.objects.presented_to(viewer).filter(pk__in=list(shown)))
    for post in posts:
        assert shown[post.pk]["post"] == _declared(PostSerializer, post)
        item = shown[post.pk]
        assert set(item) == {"post", "score", "reasons"}
        assert (item["score"] is None) == (order == "latest")
        assert item["reasons"] and all(isinstance(reason, str) for reason in item["reasons"])
