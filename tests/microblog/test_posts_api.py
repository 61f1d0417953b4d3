"""Posting, replying, reposting and deleting through the REST API."""

import pytest

from microblog.models import Post
from tests.media.ready import default_avatar_of

pytestmark = pytest.mark.django_db

POST_FIELDS = {
    "id",
    "author",
    "body",
    "html",
    "visibility",
    "created_at",
    "reply_to",
    "repost_of",
    "original",
    "like_count",
    "repost_count",
    "reply_count",
    "read_count",
    "liked",
    "reposted",
    "bookmarked",
    "hashtags",
    "mentions",
    "media",
    "original_media",
    # The card of an article the post carries (SPEC "Articles"), null without one.
    "article",
}


def test_a_post_has_the_contract_shape(client_for, alice, bob):
    response = client_for(alice).post(
        "/api/posts/", {"body": "  Hi @Bob, see #Django and #北京 <b>now</b>  "}, format="json"
    )
    assert response.status_code == 201
    post = response.json()
    assert set(post) == POST_FIELDS
    assert post["author"] == {
        "username": "alice",
        "display_name": "Alice",
        "avatar_url": default_avatar_of("alice"),
        "verification": None,
    }
    assert (post["media"], post["original_media"]) == ([], [])
    assert post["body"] == "Hi @Bob, see #Django and #北京 <b>now</b>"
    assert post["visibility"] == "public"
    assert post["hashtags"] == ["django", "北京"]
    assert post["mentions"] == ["bob"]
    assert "&lt;b&gt;now&lt;/b&gt;" in post["html"]
    assert '<a class="mention" href="/u/bob/">@Bob</a>' in post["html"]
    assert (post["reply_to"], post["repost_of"], post["original"]) == (None, None, None)
    assert (post["like_count"], post["liked"], post["reposted"], post["bookmarked"]) == (0, False, False, False)
    assert client_for(bob).get(f"/api/posts/{post['id']}/").json()["body"] == post["body"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"body": ""},
        {"body": "   \n "},
        {"body": "x" * 2001},
        {"body": "ok", "visibility": "secret"},
        {"body": "ok", "reply_to": 999999},
        {"body": "ok", "reply_to": "abc"},
        {"body": "ok", "reply_to": 10**30},
        {"body": ["list"]},
    ],
)
def test_bad_posts_answer_400(client_for, alice, payload):
    response = client_for(alice).post("/api/posts/", payload, format="json")
    assert response.status_code == 400
    assert not Post.objects.exists()


def test_two_thousand_characters_after_trimming_are_fine(client_for, alice):
    response = client_for(alice).post("/api/posts/", {"body": "  " + "字" * 2000 + "  "}, format="json")
    assert response.status_code == 201


def test_lone_surrogates_are_refused_not_a_500(client_for, alice):
    response = client_for(alice).post("/api/posts/", data=b'{"body": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/posts/0/", "/api/posts/99999999999999999999/", "/api/posts/12345/"])
def test_missing_posts_answer_404(api, path):
    assert api.get(path).status_code == 404


def test_only_the_author_deletes_and_replies_and_reposts_remain(client_for, alice, bob, post_as):
    root = post_as(alice, "root #gone")
    reply = post_as(bob, "a reply", reply_to=root["id"])
    repost = client_for(bob).post(f"/api/posts/{root['id']}/repost/", {"comment": "wow"}, format="json").json()

    assert client_for(bob).delete(f"/api/posts/{root['id']}/").status_code == 403
    assert client_for(alice).delete(f"/api/posts/{root['id']}/").status_code == 204
    missing = client_for(alice).get("/api/posts/424242/")
    gone = client_for(alice).get(f"/api/posts/{root['id']}/")
    assert gone.status_code == 404 and gone.json() == missing.json()
    assert client_for(alice).delete(f"/api/posts/{root['id']}/").status_code == 404

    assert client_for(alice).get(f"/api/posts/{reply['id']}/").json()["reply_to"] == root["id"]
    assert client_for(alice).get(f"/api/posts/{repost['id']}/").json()["original"] == root["id"]
    assert client_for(alice).get("/api/tags/gone/posts/").json()["results"] == []


def test_replies_count_and_list_oldest_first(client_for, alice, bob, carol, post_as):
    root = post_as(alice, "question")
    first = post_as(bob, "first", reply_to=root["id"])
    second = post_as(carol, "second", reply_to=root["id"])
    assert client_for(alice).get(f"/api/posts/{root['id']}/").json()["reply_count"] == 2
    replies = client_for(alice).get(f"/api/posts/{root['id']}/replies/").json()
    assert [r["id"] for r in replies["results"]] == [first["id"], second["id"]]
    client_for(bob).delete(f"/api/posts/{first['id']}/")
    assert client_for(alice).get(f"/api/posts/{root['id']}/").json()["reply_count"] == 1


def test_repost_chain_counts_every_repost_through_each_post(client_for, alice, bob, carol, make_user, post_as):
    dave = make_user(username="dave")
    root = post_as(alice, "original")
    by_bob = client_for(bob).post(f"/api/posts/{root['id']}/repost/", {"comment": "so true"}, format="json")
    assert by_bob.status_code == 201
    by_bob = by_bob.json()
    assert (by_bob["repost_of"], by_bob["original"], by_bob["visibility"]) == (root["id"], root["id"], "public")
    by_carol = client_for(carol).post(f"/api/posts/{by_bob['id']}/repost/", {"comment": "+1"}, format="json").json()
    assert (by_carol["repost_of"], by_carol["original"]) == (by_bob["id"], root["id"])
    by_dave = client_for(dave).post(f"/api/posts/{by_carol['id']}/repost/", {}, format="json").json()
    assert (by_dave["repost_of"], by_dave["original"], by_dave["body"]) == (by_carol["id"], root["id"], "")

    def count(post):
        return client_for(alice).get(f"/api/posts/{post['id']}/").json()["repost_count"]

    assert [count(root), count(by_bob), count(by_carol), count(by_dave)] == [3, 2, 1, 0]
    reposts = client_for(alice).get(f"/api/posts/{root['id']}/reposts/").json()["results"]
    assert {p["id"] for p in reposts} == {by_bob["id"], by_carol["id"], by_dave["id"]}
    assert client_for(bob).get(f"/api/posts/{root['id']}/").json()["reposted"] is True

    client_for(carol).delete(f"/api/posts/{by_carol['id']}/")
    assert [count(root), count(by_bob)] == [2, 1]


def test_reposting_twice_without_a_comment_gives_back_the_first(client_for, alice, bob, post_as):
    root = post_as(alice, "repost me")
    first = client_for(bob).post(f"/api/posts/{root['id']}/repost/")
    again = client_for(bob).post(f"/api/posts/{root['id']}/repost/", {"comment": "  "}, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert client_for(bob).get(f"/api/posts/{root['id']}/").json()["repost_count"] == 1
    with_comment = client_for(bob).post(f"/api/posts/{root['id']}/repost/", {"comment": "again!"}, format="json")
    assert with_comment.status_code == 201


def test_only_public_posts_can_be_reposted(client_for, alice, bob, follow, post_as):
    follow(bob, alice)
    private = post_as(alice, "followers only", visibility="followers")
    response = client_for(bob).post(f"/api/posts/{private['id']}/repost/")
    assert response.status_code == 400
    assert client_for(bob).post("/api/posts/999999/repost/").status_code == 404


def test_likes_and_bookmarks_are_idempotent(client_for, alice, bob, post_as):
    post = post_as(alice, "like me")
    bob_api = client_for(bob)
    url = f"/api/posts/{post['id']}"
    assert bob_api.post(f"{url}/like/").json()["like_count"] == 1
    liked = bob_api.post(f"{url}/like/").json()
    assert (liked["like_count"], liked["liked"]) == (1, True)
    assert bob_api.delete(f"{url}/like/").json()["like_count"] == 0
    assert bob_api.delete(f"{url}/like/").json()["like_count"] == 0
    assert bob_api.post(f"{url}/bookmark/").json()["bookmarked"] is True
    assert bob_api.post(f"{url}/bookmark/").json()["bookmarked"] is True
    assert bob_api.delete(f"{url}/bookmark/").json()["bookmarked"] is False
    assert client_for(alice).get(f"{url}/").json()["bookmarked"] is False


def test_anonymous_reads_public_content_and_nothing_else(api, alice, post_as):
    post = post_as(alice, "hello #world")
    for path in [
        f"/api/posts/{post['id']}/",
        f"/api/posts/{post['id']}/replies/",
        f"/api/posts/{post['id']}/reposts/",
        "/api/users/alice/",
        "/api/users/alice/posts/",
        "/api/users/alice/followers/",
        "/api/users/alice/following/",
        "/api/timeline/public/",
        "/api/tags/world/posts/",
        "/api/trending/",
        "/api/search/?q=hello",
    ]:
        assert api.get(path).status_code == 200, path
    for method, path in [
        ("post", "/api/posts/"),
        ("delete", f"/api/posts/{post['id']}/"),
        ("post", f"/api/posts/{post['id']}/like/"),
        ("post", f"/api/posts/{post['id']}/repost/"),
        ("post", f"/api/posts/{post['id']}/bookmark/"),
        ("post", "/api/users/alice/follow/"),
        ("post", "/api/users/alice/mute/"),
        ("get", "/api/feed/"),
        ("get", "/api/notifications/"),
        ("post", "/api/notifications/read/"),
    ]:
        assert getattr(api, method)(path).status_code == 401, path


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/a%00b/",
        "/api/users/a%00b/posts/",
        "/api/users/a%00b/followers/",
        "/api/tags/a%00b/posts/",
        "/api/search/?q=a%00b",
        "/api/timeline/public/?cursor=%00",
        "/api/timeline/public/?limit=-1",
        "/u/a%00b/",
        "/tags/a%00b/",
        "/explore/?q=%00&before=%00",
    ],
)
def test_odd_input_in_paths_and_queries_is_never_a_500(client_for, alice, path):
    assert client_for(alice).get(path).status_code in {200, 400, 404}
    assert client_for(alice).post(path.replace("/posts/", "/follow/")).status_code < 500
