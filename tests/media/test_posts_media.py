"""Photos on posts, through the REST API and the pages: attached in order, refused as a whole, shown in
every list a post appears in (reposts show the original's), and detached when the post goes."""

import pytest

from media.models import Media
from microblog.models import Post
from microblog.services import user_follow
from tests.media.ready import ready_media, use_media_root

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    use_media_root(settings, tmp_path)


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


def post(client, **fields):
    return client.post("/api/posts/", {"body": "", **fields}, format="json")


def urls(media: list[dict]) -> list[tuple[int, str, str]]:
    return [(item["id"], item["url"], item["thumbnail_url"]) for item in media]


def served_at(item: Media) -> tuple[int, str, str]:
    return item.pk, f"/media/{item.key}/display", f"/media/{item.key}/thumbnail"


def test_a_post_with_three_photos_shows_them_in_the_order_given(client_for, alice, bob):
    photos = [ready_media(alice, width=80, height=60, alt=f"photo {n}") for n in range(3)]
    order = [photos[2], photos[0], photos[1]]
    answer = post(client_for(alice), body="our trip", media=[p.pk for p in order])
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert urls(created["media"]) == [served_at(p) for p in order]
    assert [m["alt"] for m in created["media"]] == ["photo 2", "photo 0", "photo 1"]
    first = created["media"][0]
    assert (first["kind"], first["status"], first["width"], first["height"]) == ("image", "ready", 80, 60)
    # Anyone who may see the post sees the same photos: its page, the public timeline, its author's posts.
    for path in (f"/api/posts/{created['id']}/", "/api/timeline/public/", "/api/users/alice/posts/"):
        body = client_for(bob).get(path).json()
        shown = body if "media" in body else body["results"][0]
        assert urls(shown["media"]) == [served_at(p) for p in order], path
    attached = Media.objects.filter(pk__in=[p.pk for p in photos]).order_by("position")
    assert [(m.pk, m.attached_kind, m.attached_id) for m in attached] == [(p.pk, "post", created["id"]) for p in order]


def test_with_photos_the_body_may_be_empty(client_for, alice):
    photo = ready_media(alice)
    answer = post(client_for(alice), media=[photo.pk])
    assert answer.status_code == 201, answer.content
    assert (answer.json()["body"], [m["id"] for m in answer.json()["media"]]) == ("", [photo.pk])
    blank = post(client_for(alice), body="  \u200b ", media=[])
    assert (blank.status_code, blank.json()["code"]) == (400, "blank")


def test_replies_carry_photos_too_and_the_notification_shows_them(client_for, alice, bob):
    root = post(client_for(alice), body="what do you see?").json()
    photo = ready_media(bob)
    reply = post(client_for(bob), body="this", reply_to=root["id"], media=[photo.pk]).json()
    assert [m["id"] for m in reply["media"]] == [photo.pk]
    replies = client_for(alice).get(f"/api/posts/{root['id']}/replies/").json()["results"]
    assert [m["id"] for m in replies[0]["media"]] == [photo.pk]
    [notification] = client_for(alice).get("/api/notifications/").json()["results"]
    assert [m["id"] for m in notification["post"]["media"]] == [photo.pk]


def test_ten_photos_are_refused_and_nothing_is_stored(client_for, alice, settings):
    photos = [ready_media(alice) for _ in range(settings.MEDIA_PER_ITEM + 1)]
    answer = post(client_for(alice), body="too many", media=[p.pk for p in photos])
    assert (answer.status_code, answer.json()["code"]) == (400, "too_many_media")
    assert not Post.objects.exists()
    assert not Media.objects.exclude(attached_kind="").exists()
    nine = post(client_for(alice), body="just right", media=[p.pk for p in photos[:9]])
    assert nine.status_code == 201 and len(nine.json()["media"]) == 9


def test_each_photo_that_may_not_be_attached_refuses_the_whole_post(client_for, alice, bob):
    mine = ready_media(alice)
    bobs = ready_media(bob)
    processing = ready_media(alice, status=Media.Status.PROCESSING)
    failed = ready_media(alice, status=Media.Status.FAILED)
    used = ready_media(alice)
    first = post(client_for(alice), body="first", media=[used.pk]).json()
    missing = Media.objects.order_by("-pk").first().pk + 100
    alice_api = client_for(alice)

    answers = {
        name: post(alice_api, body="second", media=[mine.pk, other])
        for name, other in {
            "someone else's": bobs.pk,
            "missing": missing,
            "processing": processing.pk,
            "failed": failed.pk,
            "already attached": used.pk,
            "named twice": mine.pk,
        }.items()
    }
    codes = {name: (answer.status_code, answer.json().get("code")) for name, answer in answers.items()}
    assert codes == {
        "someone else's": (400, "media_not_found"),
        "missing": (400, "media_not_found"),
        "processing": (400, "media_not_ready"),
        "failed": (400, "media_failed"),
        "already attached": (400, "media_in_use"),
        "named twice": (400, "invalid"),
    }
    # Someone else's upload is refused exactly as one that does not exist: nothing tells it is there.
    assert answers["someone else's"].json() == answers["missing"].json()
    assert list(Post.objects.values_list("pk", flat=True)) == [first["id"]]
    for upload in (mine, bobs, processing, failed):
        upload.refresh_from_db()
        assert (upload.attached_kind, upload.attached_id) == ("", None)
    # Nor can a post take a photo another user attached to theirs.
    taken = ready_media(bob)
    post(client_for(bob), body="mine", media=[taken.pk])
    refused = post(alice_api, body="theirs", media=[taken.pk])
    assert refused.json() == answers["missing"].json()


def test_media_must_be_a_list_of_ids(client_for, alice):
    for media in ("1", [True], ["x"], [0], {"id": 1}):
        answer = post(client_for(alice), body="hi", media=media)
        assert answer.status_code == 400, media
    assert not Post.objects.exists()


def test_a_repost_shows_the_original_photos(client_for, alice, bob, carol):
    photos = [ready_media(alice), ready_media(alice)]
    original = post(client_for(alice), body="look", media=[p.pk for p in photos]).json()
    plain = client_for(bob).post(f"/api/posts/{original['id']}/repost/").json()
    quoted = client_for(carol).post(f"/api/posts/{plain['id']}/repost/", {"comment": "wow"}, format="json").json()
    for repost in (plain, quoted):
        assert repost["original"] == original["id"]
        assert repost["media"] == []
        assert repost["original_media"] == original["media"]
    timeline = client_for(carol).get("/api/timeline/public/").json()["results"]
    assert [(row["id"], len(row["media"]), len(row["original_media"])) for row in timeline] == [
        (quoted["id"], 0, 2),
        (plain["id"], 0, 2),
        (original["id"], 2, 0),
    ]


def test_deleting_a_post_detaches_its_photos(client_for, alice, bob):
    photos = [ready_media(alice), ready_media(alice)]
    original = post(client_for(alice), body="soon gone", media=[p.pk for p in photos]).json()
    repost = client_for(bob).post(f"/api/posts/{original['id']}/repost/").json()
    assert client_for(alice).delete(f"/api/posts/{original['id']}/").status_code == 204
    for photo in photos:
        photo.refresh_from_db()
        assert photo.detached_at is not None
        assert (photo.attached_kind, photo.attached_id) == ("post", original["id"])
    # The repost stays, showing the original as deleted: without its photos.
    assert client_for(bob).get(f"/api/posts/{repost['id']}/").json()["original_media"] == []
    # A detached photo cannot be attached again.
    again = post(client_for(alice), body="again", media=[photos[0].pk])
    assert (again.status_code, again.json()["code"]) == (400, "media_in_use")


def test_feeds_and_search_carry_the_photos(client_for, alice, bob):
    user_follow(follower=bob, followee=alice)
    photo = ready_media(alice)
    created = post(client_for(alice), body="zebra crossing", media=[photo.pk]).json()
    bob_api = client_for(bob)
    for order in ("latest", "ranked"):
        items = bob_api.get(f"/api/feed/?order={order}").json()["results"]
        assert [item["post"]["media"] for item in items] == [created["media"]], order
    found = bob_api.get("/api/search/?q=zebra").json()["posts"]
    assert [row["media"] for row in found] == [created["media"]]


def test_the_page_form_posts_photos_through_the_same_service(client, alice, bob):
    client.force_login(alice)
    photos = [ready_media(alice), ready_media(alice)]
    answer = client.post("/", {"body": "from the page", "visibility": "public", "media": [photos[1].pk, photos[0].pk]})
    assert answer.status_code == 302
    created = Post.objects.get()
    assert list(Media.objects.filter(attached_id=created.pk).order_by("position").values_list("pk", flat=True)) == [
        photos[1].pk,
        photos[0].pk,
    ]
    # A refused photo shows on the form, and stores nothing.
    bobs = ready_media(bob)
    refused = client.post("/", {"body": "not mine", "visibility": "public", "media": [bobs.pk]})
    assert refused.status_code == 200
    assert "A photo was not found" in refused.content.decode()
    assert Post.objects.count() == 1
