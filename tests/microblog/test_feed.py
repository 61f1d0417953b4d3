"""The home feed over the API: ranked with reasons, visibility, stable paging, the ranker seam, query cost."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from microblog import services
from microblog.models import Follow, Post
from microblog.ranking import candidates
from tests.factories import PostFactory

from .conftest import VIEWERS

pytestmark = pytest.mark.django_db


def feed(client, **params) -> dict:
    response = client.get("/api/feed/", params)
    assert response.status_code == 200, response.content
    return response.json()


def post_ids(body) -> list[int]:
    return [item["post"]["id"] for item in body["results"]]


def test_ranked_items_carry_their_score_and_reasons(client_for, alice, bob, follow, post_as, contact_rows):
    follow(alice, bob)
    contact_rows(alice, bob)
    mine = post_as(alice, "mine")
    bobs = post_as(bob, "bob's")
    body = feed(client_for(alice))
    assert set(body) == {"results", "next"} and body["next"] is None
    assert sorted(post_ids(body)) == sorted([mine["id"], bobs["id"]])
    by_id = {item["post"]["id"]: item for item in body["results"]}
    assert by_id[bobs["id"]]["reasons"] == ["you follow @bob", "you chat with @bob"]
    assert by_id[mine["id"]]["reasons"] == ["your post"]
    scores = [item["score"] for item in body["results"]]
    assert all(isinstance(score, float) and score > 0 for score in scores)
    assert scores == sorted(scores, reverse=True)


def test_a_post_reposted_by_several_followed_people_appears_once_with_all_of_them(
    client_for, alice, bob, carol, make_user, follow, post_as
):
    dave = make_user(username="dave")
    follow(alice, bob)
    follow(alice, carol)
    original = post_as(dave, "worth sharing")
    for person in (bob, carol):
        assert client_for(person).post(f"/api/posts/{original['id']}/repost/").status_code == 201
    body = feed(client_for(alice))
    assert post_ids(body) == [original["id"]]
    assert body["results"][0]["reasons"] == ["reposted by @carol, @bob"]


def test_a_post_liked_by_people_who_like_what_you_like_ranks_first_and_says_why(
    client_for, alice, bob, carol, make_user, follow, post_as
):
    dave = make_user(username="dave")
    follow(alice, bob)
    earlier = [post_as(bob, f"earlier {n}") for n in range(2)]
    for person in (alice, carol):  # Carol liked both posts Alice liked; Dave liked neither
        for post in earlier:
            assert client_for(person).post(f"/api/posts/{post['id']}/like/").status_code in (200, 201)
    carols_pick = post_as(bob, "carol liked this")
    daves_pick = post_as(bob, "dave liked this")  # newer: without the taste signal it would lead
    client_for(carol).post(f"/api/posts/{carols_pick['id']}/like/")
    client_for(dave).post(f"/api/posts/{daves_pick['id']}/like/")
    body = feed(client_for(alice))
    order = post_ids(body)
    assert order.index(carols_pick["id"]) < order.index(daves_pick["id"])
    reasons = {item["post"]["id"]: item["reasons"] for item in body["results"]}
    assert "liked by people who like what you like" in reasons[carols_pick["id"]]
    assert "liked by people who like what you like" not in reasons[daves_pick["id"]]


def test_someone_following_few_people_gets_a_deeper_pool_of_their_posts(
    client_for, alice, bob, carol, make_user, follow, post_as, settings, monkeypatch
):
    follow(alice, bob)
    bobs = [post_as(bob, f"post {n}")["id"] for n in range(12)]
    assert sorted(post_ids(feed(client_for(alice), limit=20))) == bobs
    # Following many shares the same row budget out thinner, down to FEED_PER_AUTHOR each.
    monkeypatch.setattr(candidates, "MAX_IN_NETWORK_ROWS", 20)
    settings.FEED_PER_AUTHOR = 2
    for n in range(10):
        follow(carol, make_user(username=f"quiet{n}"))
    follow(carol, bob)
    assert len(feed(client_for(carol), limit=20)["results"]) == 2


def test_posts_liked_by_several_followed_people_come_in_but_stay_a_minority(
    client_for, alice, bob, carol, make_user, follow, post_as
):
    dave = make_user(username="dave")
    follow(alice, bob)
    follow(alice, carol)
    own = [post_as(bob, f"bob {n}")["id"] for n in range(3)] + [post_as(carol, f"carol {n}")["id"] for n in range(2)]
    outside = post_as(dave, "popular with your people")
    for person in (bob, carol):
        client_for(person).post(f"/api/posts/{outside['id']}/like/")
    body = feed(client_for(alice))
    assert set(post_ids(body)) == {*own, outside["id"]}
    assert post_ids(body).index(outside["id"]) >= 4  # at most about one in five
    item = next(item for item in body["results"] if item["post"]["id"] == outside["id"])
    assert item["reasons"] == ["liked by 2 people you follow"]


def test_the_ranking_reads_each_posts_own_time_to_the_microsecond_and_each_authors_name(
    client_for, alice, bob, carol, make_user, follow, post_as
):
    # Times come from the database as seconds (candidates.EpochSeconds), names from the network or
    # one lookup for strangers: recency and reasons must see what was stored.
    dave = make_user(username="dave")
    follow(alice, bob)
    follow(alice, carol)
    on_the_second = post_as(bob, "on the second")["id"]
    just_short = post_as(bob, "a microsecond short of the next second")["id"]
    outside = post_as(dave, "liked by two people alice follows")["id"]
    for person in (bob, carol):
        assert client_for(person).post(f"/api/posts/{outside}/like/").status_code == 200
    reposted = client_for(carol).post(f"/api/posts/{on_the_second}/repost/")
    assert reposted.status_code == 201
    base = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    times = {
        on_the_second: base,
        just_short: base + timedelta(microseconds=999_999),
        outside: base + timedelta(microseconds=1),
        reposted.json()["id"]: base + timedelta(hours=1),
    }
    for pk, at in times.items():
        Post.objects.filter(pk=pk).update(created_at=at)
    found = {item.post_id: item for item in candidates.candidates_for(alice, now=timezone.now())}
    assert found[on_the_second].created == base.timestamp()
    assert found[on_the_second].seen == (base + timedelta(hours=1)).timestamp()  # when carol reposted it
    assert found[on_the_second].reposted_by == ["carol"]
    assert found[just_short].created == (base + timedelta(microseconds=999_999)).timestamp()
    assert found[outside].created == (base + timedelta(microseconds=1)).timestamp()
    assert found[outside].author_username == "dave"
    assert not found[outside].in_network


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_the_ranked_feed_shows_only_what_the_viewer_may_see(world, viewer, django_user_model):
    people = {user.username: user for user in django_user_model.objects.all()}
    author = people["author"]
    if viewer != "author":
        # Everyone follows the author (directly: the follow service refuses across a block, and
        # blocks must hide the posts all the same), so "followers" posts reach the contact and stranger too.
        Follow.objects.get_or_create(follower=people[viewer], followee=author)
    sees = {
        "author": {"public", "followers", "contacts"},
        "follower": {"public", "followers"},
        "contact": {"public", "followers", "contacts"},
        "stranger": {"public", "followers"},
        "blocked": set(),
        "blocker": set(),
    }[viewer]
    expected = {world["posts"][visibility] for visibility in sees}
    if viewer == "follower":
        expected.add(world["reply"])
    for order in ("ranked", "latest"):
        assert set(post_ids(feed(world["clients"][viewer], order=order))) == expected, order


def test_the_feed_needs_a_signed_in_viewer(api):
    assert api.get("/api/feed/").status_code == 401


def test_muted_authors_leave_the_ranked_feed_reposts_of_them_too(client_for, alice, bob, carol, follow, post_as):
    follow(alice, bob)
    follow(alice, carol)
    bobs = post_as(bob, "noise")
    client_for(carol).post(f"/api/posts/{bobs['id']}/repost/")
    carols = post_as(carol, "signal")
    client_for(alice).post("/api/users/bob/mute/")
    assert post_ids(feed(client_for(alice))) == [carols["id"]]


def _make_network(make_user, alice, *, authors: int, posts_each: int) -> list[int]:
    made = []
    for n in range(authors):
        person = make_user(username=f"author{n}")
        Follow.objects.create(follower=alice, followee=person)
        made += [PostFactory(author=person).pk for _ in range(posts_each)]
    return made


def test_paging_200_ranked_items_while_others_like_and_post_neither_repeats_nor_skips(
    client_for, alice, make_user, settings
):
    settings.FEED_PER_AUTHOR = 10
    made = _make_network(make_user, alice, authors=20, posts_each=10)
    busy = make_user(username="busy")
    client, busy_api = client_for(alice), client_for(busy)
    seen, url, pages = [], "/api/feed/?limit=20", 0
    while url:
        body = client.get(url).json()
        assert "restarted" not in body
        seen += post_ids(body)
        pages += 1
        # Between pages the ranking inputs move: likes pile onto what is further down, authors post more.
        for post_id in made[pages * 7 : pages * 7 + 5]:
            busy_api.post(f"/api/posts/{post_id}/like/")
        PostFactory(author=Follow.objects.filter(follower=alice).first().followee, body="late news")
        url = body["next"]
    assert pages == 10
    assert len(seen) == len(set(seen)) == 200
    assert set(seen) == set(made)


def test_an_expired_snapshot_restarts_the_feed_and_says_so(client_for, alice, make_user):
    made = _make_network(make_user, alice, authors=3, posts_each=4)
    client = client_for(alice)
    first = feed(client, limit=5)
    cache.clear()
    again = client.get(first["next"]).json()
    assert again["restarted"] is True
    assert post_ids(again) == post_ids(first)  # the top of a fresh ranking (nothing moved meanwhile)
    assert len(made) == 12


def test_a_cursor_is_only_good_for_its_own_viewer_and_bad_ones_answer_404(client_for, alice, bob, make_user):
    _make_network(make_user, alice, authors=3, posts_each=4)
    first = feed(client_for(alice), limit=5)
    # Bob's lookup of Alice's snapshot finds nothing of hers: he gets his own (empty) feed.
    assert client_for(bob).get(first["next"]).json() == {"results": [], "next": None, "restarted": True}
    for bad in ("x", "r.", "r.abc.-1", "l.abc", "l.5"):
        response = client_for(alice).get("/api/feed/", {"cursor": bad, "order": "ranked"})
        assert response.status_code == 404, bad
    assert client_for(alice).get("/api/feed/", {"cursor": "\x00"}).status_code == 400
    assert client_for(alice).get("/api/feed/", {"limit": 1000}).status_code == 400


def test_latest_pages_past_a_long_run_of_posts_the_viewer_may_not_see(client_for, alice, bob, carol, follow, post_as):
    follow(alice, bob)
    follow(alice, carol)
    bobs = [post_as(bob, f"bob {n}")["id"] for n in range(3)]
    for n in range(25):  # newer than all of Bob's, and muted: more than a page scans (2 × 10)
        post_as(carol, f"carol {n}")
    client = client_for(alice)
    assert client.post("/api/users/carol/mute/").status_code in (200, 201)
    seen, url, pages = [], "/api/feed/?order=latest&limit=2", 0
    while url:
        body = feed_url(client, url)
        seen += post_ids(body)
        url, pages = body["next"], pages + 1
        assert pages < 10
    assert seen == bobs[::-1]


def test_the_ranker_is_chosen_by_a_setting(client_for, alice, bob, follow, post_as, settings):
    follow(alice, bob)
    older = post_as(bob, "older, much liked")
    newer = post_as(bob, "newer")
    settings.FEED_RANKER = "microblog.ranking.rankers.ChronologicalRanker"
    body = feed(client_for(alice), order="ranked")
    assert post_ids(body) == [newer["id"], older["id"]]
    assert {item["score"] for item in body["results"]} == {None}


def feed_url(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("order", ["ranked", "latest"])
def test_a_feed_page_costs_the_same_queries_for_5_or_50_followed_people(client_for, make_user, order, settings):
    settings.FEED_PER_AUTHOR = 10
    costs = []
    for size in (5, 50):
        viewer = make_user()
        _make_network_for(make_user, viewer, authors=size, posts_each=8)
        # A like of the viewer's: affinity and taste overlap then take their queries too.
        services.post_like(user=viewer, post=Post.objects.filter(author__follower_links__follower=viewer).first())
        client = client_for(viewer)
        cache.set("microblog:trending", [], 60)  # the trending list is cached apart; hold it still
        with CaptureQueriesContext(connection) as first:
            body = feed(client, limit=20, order=order)
        assert len(body["results"]) == 20
        with CaptureQueriesContext(connection) as second:
            assert len(feed_url(client, body["next"])["results"]) == 20
        costs.append((len(first), len(second)))
    assert costs[0] == costs[1]
    # Each page's photos are one query (microblog.selectors.posts_with_media), not one per post.
    # PostgreSQL walks the network's newest posts inside the candidates' query (one query fewer),
    # and first asks whether a viewer follows few people for Latest (one more: selectors._follows_few).
    postgresql = connection.vendor == "postgresql"
    assert costs[0] == ((11 if postgresql else 12, 3) if order == "ranked" else ((5, 5) if postgresql else (4, 4)))


def _make_network_for(make_user, viewer, *, authors: int, posts_each: int) -> None:
    for _ in range(authors):
        person = make_user()
        Follow.objects.create(follower=viewer, followee=person)
        for _ in range(posts_each):
            PostFactory(author=person)


def test_with_chats_left_out_of_the_ranking_a_contact_is_only_someone_followed(
    client_for, alice, bob, follow, post_as, contact_rows
):
    from microblog.ranking.scoring import Weights

    follow(alice, bob)
    contact_rows(alice, bob)
    bobs = post_as(bob, "from a chat friend")
    client = client_for(alice)
    assert client.get("/api/me/").json()["feed_uses_chats"] is True
    (with_chats,) = feed(client)["results"]
    answer = client.patch("/api/me/", {"feed_uses_chats": False}, format="json")
    assert answer.status_code == 200 and answer.json()["feed_uses_chats"] is False
    (without,) = feed(client)["results"]
    assert with_chats["post"]["id"] == without["post"]["id"] == bobs["id"]
    assert with_chats["reasons"] == ["you follow @bob", "you chat with @bob"]
    assert without["reasons"] == ["you follow @bob"]
    assert without["score"] == pytest.approx(with_chats["score"] / Weights().contact_boost, rel=0.01)
    assert client.patch("/api/me/", {"feed_uses_chats": "maybe"}, format="json").status_code == 400


def chats_box(settings_page) -> str:
    """The settings page's <input> for the switch."""
    start = settings_page.index('name="feed_uses_chats"')
    return settings_page[settings_page.rindex("<input", 0, start) : settings_page.index(">", start)]


def test_the_settings_page_switches_chats_out_of_the_home_feed(client, alice, bob, follow, post_as, contact_rows):
    follow(alice, bob)
    contact_rows(alice, bob)
    post_as(bob, "from a chat friend")
    client.force_login(alice)
    assert "you chat with @bob" in client.get("/").content.decode()
    page = client.get("/settings/").content.decode()
    assert "Use my chats to rank my feed" in page and "checked" in chats_box(page)
    client.post("/settings/", {"display_name": "", "bio": ""})  # an unticked box is not sent
    alice.refresh_from_db()
    assert alice.feed_uses_chats is False
    assert "you chat with @bob" not in client.get("/").content.decode()
    assert "checked" not in chats_box(client.get("/settings/").content.decode())
