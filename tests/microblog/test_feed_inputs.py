"""The ranked feed keeps what it reads about the viewer between first pages (whom they follow, their
recent likes, reposts and replies): the viewer's own actions show up on their very next first page.
And Latest's two ways of reading the network's newest posts on PostgreSQL give the same pages.

Each action runs as a request would: its transaction commits (`django_capture_on_commit_callbacks`),
which is when the kept inputs are renewed.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection

from microblog import selectors
from microblog.models import Like

pytestmark = pytest.mark.django_db


def ranked(client) -> dict[int, list[str]]:
    """The first ranked page: post id -> its reasons."""
    response = client.get("/api/feed/", {"order": "ranked"})
    assert response.status_code == 200, response.content
    return {item["post"]["id"]: item["reasons"] for item in response.json()["results"]}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs `action()` and the on-commit work its transaction scheduled, as a request's commit would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def test_someone_followed_after_a_first_page_is_on_the_next(client_for, alice, bob, carol, follow, post_as, committed):
    follow(alice, bob)
    carols = post_as(carol, "carol's news")
    me = client_for(alice)
    assert carols["id"] not in ranked(me)
    committed(lambda: follow(alice, carol))
    assert ranked(me)[carols["id"]] == ["you follow @carol"]


def test_someone_unfollowed_after_a_first_page_is_gone_from_the_next(
    client_for, alice, bob, follow, post_as, committed
):
    follow(alice, bob)
    bobs = post_as(bob, "bob's news")
    me = client_for(alice)
    assert bobs["id"] in ranked(me)
    committed(lambda: me.delete(f"/api/users/{bob.username}/follow/"))
    assert bobs["id"] not in ranked(me)


def test_likes_given_after_a_first_page_count_on_the_next(client_for, alice, bob, follow, post_as, committed):
    follow(alice, bob)
    earlier = [post_as(bob, f"earlier {n}") for n in range(2)]
    newest = post_as(bob, "newest")
    me = client_for(alice)
    assert "you often interact with @bob" not in ranked(me)[newest["id"]]
    for post in earlier:
        committed(lambda post=post: me.post(f"/api/posts/{post['id']}/like/"))
    assert "you often interact with @bob" in ranked(me)[newest["id"]]
    # Taking the likes back counts on the next first page too.
    for post in earlier:
        committed(lambda post=post: me.delete(f"/api/posts/{post['id']}/like/"))
    assert "you often interact with @bob" not in ranked(me)[newest["id"]]


def test_a_reply_after_a_first_page_counts_on_the_next(client_for, alice, bob, follow, post_as, committed):
    follow(alice, bob)
    question = post_as(bob, "a question")
    newest = post_as(bob, "newest")
    me = client_for(alice)
    assert "you often interact with @bob" not in ranked(me)[newest["id"]]
    committed(lambda: post_as(alice, "an answer", reply_to=question["id"]))
    assert "you often interact with @bob" in ranked(me)[newest["id"]]


def test_a_repost_after_a_first_page_shows_on_the_next(client_for, alice, bob, carol, follow, post_as, committed):
    follow(alice, bob)
    carols = post_as(carol, "worth sharing")
    bobs = post_as(bob, "bob's news")
    me = client_for(alice)
    assert "you often interact with @carol" not in str(ranked(me))
    committed(lambda: me.post(f"/api/posts/{carols['id']}/repost/"))
    reasons = ranked(me)
    assert "you reposted this" in reasons[carols["id"]]
    assert "you often interact with @carol" in reasons[carols["id"]]
    assert bobs["id"] in reasons


def test_others_likes_reach_the_first_page_once_the_kept_inputs_expire(
    client_for, alice, bob, carol, make_user, follow, post_as, committed, settings
):
    """Posts two followed people liked come in from outside the network; others' likes do not renew
    the viewer's kept inputs, which last FEED_INPUTS_TTL (here one second, for the test's sake)."""
    settings.FEED_INPUTS_TTL = timedelta(seconds=1)
    dave = make_user(username="dave")
    for person in (bob, carol):
        follow(alice, person)
        # Out-of-network posts make up at most 1 in 5 items: the network's own come first.
        for n in range(2):
            post_as(person, f"{person.username}'s news {n}")
    outside = post_as(dave, "worth a look")
    me = client_for(alice)
    assert outside["id"] not in ranked(me)
    for person in (bob, carol):
        committed(lambda person=person: client_for(person).post(f"/api/posts/{outside['id']}/like/"))
    assert Like.objects.filter(post_id=outside["id"]).count() == 2
    time.sleep(1.2)
    assert "liked by 2 people you follow" in ranked(me)[outside["id"]]


@pytest.mark.parametrize("few", [True, False])
def test_latest_pages_are_newest_first_whichever_way_postgresql_reads_them(
    client_for, alice, bob, carol, make_user, follow, post_as, monkeypatch, few
):
    """PostgreSQL reads Latest's newest ids one way for a viewer who follows few people and another
    for one who follows many (microblog.selectors._follows_few): the pages are the same."""
    if connection.vendor != "postgresql":
        pytest.skip("the choice is PostgreSQL's")
    monkeypatch.setattr(selectors, "_follows_few", lambda viewer_id: few)
    stranger = make_user(username="stranger")
    for person in (bob, carol):
        follow(alice, person)
    posted = []
    for n in range(25):
        for person in (bob, carol, alice, stranger):
            post = post_as(person, f"{person.username} {n}")
            if person != stranger:
                posted.append(post["id"])
    me, seen, url = client_for(alice), [], "/api/feed/?order=latest&limit=20"
    while url:
        body = me.get(url).json()
        seen += [item["post"]["id"] for item in body["results"]]
        url = body["next"]
    assert seen == sorted(posted, reverse=True)
