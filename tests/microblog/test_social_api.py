"""Follows, mutes, profiles, the feed, search, tags, notifications — and what each page of a list costs."""

import json

import pytest
from django.db import connection

from microblog.models import Post
from tests.media.ready import default_avatar_of, ready_media, use_media_root

pytestmark = pytest.mark.django_db


def test_follow_is_idempotent_and_shows_on_the_profile(client_for, api, alice, bob):
    bob_api = client_for(bob)
    assert bob_api.post("/api/users/alice/follow/").status_code == 200
    profile = bob_api.post("/api/users/ALICE/follow/").json()
    assert profile == {
        "username": "alice",
        "display_name": "Alice",
        "avatar_url": default_avatar_of("alice"),
        "bio": "",
        "followers_count": 1,
        "following_count": 0,
        "posts_count": 0,
        "is_following": True,
        "is_contact": False,
        "verification": None,
    }
    followers = api.get("/api/users/alice/followers/").json()
    assert followers["results"] == [
        {"username": "bob", "display_name": "Bob", "avatar_url": default_avatar_of("bob"), "verification": None}
    ]
    assert set(followers) == {"next", "previous", "results"}
    following = api.get("/api/users/bob/following/").json()["results"]
    assert following == [
        {"username": "alice", "display_name": "Alice", "avatar_url": default_avatar_of("alice"), "verification": None}
    ]
    assert bob_api.delete("/api/users/alice/follow/").json()["is_following"] is False
    assert bob_api.delete("/api/users/alice/follow/").json()["followers_count"] == 0
    assert bob_api.post("/api/users/bob/follow/").status_code == 400
    assert bob_api.post("/api/users/nobody/follow/").status_code == 404


def test_is_contact_on_a_profile(client_for, alice, bob, contact_rows):
    contact_rows(alice, bob)
    assert client_for(bob).get("/api/users/alice/").json()["is_contact"] is True


def test_a_block_ends_follows_both_ways_and_stops_new_ones(client_for, alice, bob, follow, block):
    follow(alice, bob)
    follow(bob, alice)
    block(alice, bob)
    assert client_for(alice).get("/api/users/bob/").status_code == 404
    assert client_for(bob).post("/api/users/alice/follow/").status_code == 404
    from microblog.models import Follow

    assert not Follow.objects.exists()


def test_feed_latest_holds_followed_people_and_self_newest_first(client_for, alice, bob, carol, follow, post_as):
    follow(alice, bob)
    mine = post_as(alice, "mine")
    bobs = post_as(bob, "bob's")
    post_as(carol, "carol is not followed")
    body = client_for(alice).get("/api/feed/", {"order": "latest"}).json()
    assert set(body) == {"results", "next"}
    assert [item["post"]["id"] for item in body["results"]] == [bobs["id"], mine["id"]]
    assert [(item["score"], item["reasons"]) for item in body["results"]] == [
        (None, ["you follow @bob"]),
        (None, ["your post"]),
    ]
    assert client_for(alice).get("/api/feed/?order=sideways").status_code == 400


def test_feed_pages_neither_repeat_nor_skip(client_for, alice, post_as):
    made = [post_as(alice, f"post {i}")["id"] for i in range(7)]
    seen, url = [], "/api/feed/?order=latest&limit=3"
    while url:
        body = client_for(alice).get(url).json()
        seen += [item["post"]["id"] for item in body["results"]]
        url = body["next"]
    assert seen == list(reversed(made))


def test_mute_hides_an_author_from_the_viewers_surfaces(client_for, alice, bob, follow, post_as):
    follow(alice, bob)
    post = post_as(bob, "noise #loud")
    alice_api = client_for(alice)
    assert alice_api.post("/api/users/bob/mute/").status_code == 200
    assert alice_api.post("/api/users/bob/mute/").status_code == 200
    assert alice_api.get("/api/feed/?order=latest").json()["results"] == []
    assert alice_api.get("/api/timeline/public/").json()["results"] == []
    assert alice_api.get("/api/tags/loud/posts/").json()["results"] == []
    assert alice_api.get("/api/search/?q=noise").json()["posts"] == []
    assert alice_api.get(f"/api/posts/{post['id']}/").status_code == 200  # a direct link still opens
    client_for(bob).post("/api/users/alice/follow/")
    assert alice_api.get("/api/notifications/").json()["results"] == []
    alice_api.delete("/api/users/bob/mute/")
    assert len(alice_api.get("/api/timeline/public/").json()["results"]) == 1
    assert alice_api.post("/api/users/alice/mute/").status_code == 400


def test_search_finds_cjk_and_people_public_only(client_for, api, alice, bob, make_user, post_as):
    make_user(username="beijing_fan", display_name="北京人")
    public = post_as(alice, "今天北京下雪了")
    post_as(alice, "北京 secret", visibility="followers")
    body = api.get("/api/search/", {"q": "北京"}).json()
    assert [p["id"] for p in body["posts"]] == [public["id"]]
    assert [u["username"] for u in body["users"]] == ["beijing_fan"]
    assert api.get("/api/search/").json()["posts"] == api.get("/api/search/").json()["users"] == []


def test_tags_are_case_folded_and_unicode(api, alice, bob, post_as):
    first = post_as(alice, "#Django rocks")
    second = post_as(bob, "so does #DJANGO and #北京")
    assert [p["id"] for p in api.get("/api/tags/django/posts/").json()["results"]] == [second["id"], first["id"]]
    assert [p["id"] for p in api.get("/api/tags/北京/posts/").json()["results"]] == [second["id"]]
    assert api.get("/api/tags/nothing/posts/").json()["results"] == []


def test_trending_needs_three_authors_and_is_scored_against_the_past(client_for, make_user, post_as):
    from datetime import timedelta

    from django.utils import timezone

    from microblog.trending import trend_score, trending

    people = [make_user(username=f"p{i}") for i in range(5)]
    for person in people[:2]:
        post_as(person, "#rare")
    assert trending() == []
    for person in people:
        post_as(person, "#rare and #usual")
    old = post_as(people[0], "#usual long ago")
    Post.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(days=3))
    trends = {trend["tag"]: trend for trend in trending(now=timezone.now())}
    assert trends["rare"]["authors"] == 5 and trends["rare"]["posts"] == 7
    assert trends["rare"]["score"] > trends["usual"]["score"]
    assert "5 people" in trends["rare"]["why"]
    assert trend_score(authors=10, baseline_authors=70, baseline_days=7) == 0
    assert trend_score(authors=10, baseline_authors=0, baseline_days=7) == 10


def test_notifications_for_mention_reply_repost_like_follow(
    client_for, alice, bob, post_as, django_capture_on_commit_callbacks
):
    post = post_as(alice, "hello")
    bob_api = client_for(bob)
    bob_api.post("/api/users/alice/follow/")
    bob_api.post(f"/api/posts/{post['id']}/like/")
    bob_api.delete(f"/api/posts/{post['id']}/like/")
    bob_api.post(f"/api/posts/{post['id']}/like/")  # like, unlike, like: one notification
    with django_capture_on_commit_callbacks(execute=True):  # mentions notify after commit
        post_as(bob, "hi @alice")
    post_as(bob, "answer", reply_to=post["id"])
    bob_api.post(f"/api/posts/{post['id']}/repost/")
    post_as(alice, "talking to myself @alice")
    alice_api = client_for(alice)
    body = alice_api.get("/api/notifications/").json()
    assert [n["kind"] for n in body["results"]] == ["repost", "reply", "mention", "like", "follow"]
    assert body["unread"] == 5
    assert body["results"][0]["actor"] == {
        "username": "bob",
        "display_name": "Bob",
        "avatar_url": default_avatar_of("bob"),
        "verification": None,
    }
    assert body["results"][-1]["post"] is None
    assert set(body["results"][0]) == {"id", "kind", "actor", "post", "created_at", "read"}
    assert alice_api.get("/api/notifications/unread/").json() == {"unread": 5}
    assert alice_api.post("/api/notifications/read/").json() == {"unread": 0}
    assert client_for(bob).get("/api/notifications/").json()["results"] == []


def test_no_notification_across_a_block_or_about_a_post_the_recipient_cannot_see(
    client_for, alice, bob, carol, post_as, block, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # mentions notify after commit
        post_as(bob, "psst @carol", visibility="followers")
        block(alice, bob)
        post_as(bob, "hey @alice")
    assert client_for(carol).get("/api/notifications/").json()["results"] == []
    assert client_for(alice).get("/api/notifications/").json()["results"] == []


def test_list_pages_cost_a_fixed_number_of_queries(
    client_for,
    alice,
    bob,
    carol,
    make_user,
    follow,
    post_as,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
    settings,
    tmp_path,
):
    use_media_root(settings, tmp_path)
    follow(alice, bob)
    follow(carol, alice)
    root = post_as(bob, "root #tag", media=[ready_media(bob).pk])

    def grow():
        # Each person has an avatar, and posts a photo: the page's avatars and photos must not cost a query each.
        person = make_user()
        client_for(person).patch("/api/me/", {"avatar": ready_media(person).pk}, format="json")
        follow(person, alice)
        follow(alice, person)
        photos = [ready_media(person).pk, ready_media(person).pk]
        with django_capture_on_commit_callbacks(execute=True):  # mentions notify after commit
            post_as(person, f"more #tag by {person.username} @alice", reply_to=root["id"], media=photos)
        client_for(person).post(f"/api/posts/{root['id']}/repost/", {"comment": "#tag"}, format="json")
        client_for(person).post(f"/api/posts/{root['id']}/like/")

    # The token lookup, then what each list needs: at most a lookup or two, the page itself (authors
    # and their avatars joined), and the page's photos (the reposted originals' too).
    costs = {
        # + the newest ids, picked on the index (PostgreSQL: + whether alice follows few, selectors._follows_few)
        "/api/feed/?order=latest": 5 if connection.vendor == "postgresql" else 4,
        "/api/timeline/public/": 3,
        "/api/tags/tag/posts/": 3,
        "/api/users/bob/posts/": 5,  # + the user, + the block check
        "/api/users/alice/followers/": 3,
        "/api/users/alice/following/": 3,
        f"/api/posts/{root['id']}/replies/": 4,  # + the post
        f"/api/posts/{root['id']}/reposts/": 4,
        "/api/notifications/": 5,  # + the unread count, + the posts of the page
        # posts: index, rows to rank, visibility, page, photos; people: index, rows; tags: one.
        "/api/search/?q=more": 8,
    }
    alice_api = client_for(alice)
    alice_api.get("/api/search/?q=more")  # a process's own caches (PostgreSQL's index statistics) filled
    for rounds in (2, 5):
        for _ in range(rounds):
            grow()
        for path, cost in costs.items():
            with django_assert_num_queries(cost):
                response = alice_api.get(path)
            assert response.status_code == 200
            rows = response.json().get("results") or response.json().get("posts")
            assert rows, path
            shown = json.dumps(rows)
            assert "/thumbnail" in shown, f"{path} shows no avatar or photo"
