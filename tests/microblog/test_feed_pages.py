"""The home page `/`: the ranked feed with a "why" line under each item, and a switch to Latest."""

import re

import pytest

from microblog.models import Follow
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_ranked_feed_with_reasons_and_switches_to_latest(client, alice, bob, post_as, contact_rows):
    Follow.objects.create(follower=alice, followee=bob)
    contact_rows(alice, bob)
    post_as(bob, "hello from bob")
    client.force_login(alice)
    ranked = client.get("/").content.decode()
    assert "Top posts for you" in ranked and 'href="?order=latest"' in ranked
    assert "hello from bob" in ranked
    assert "Why you're seeing this: you follow @bob · you chat with @bob" in ranked
    latest = client.get("/?order=latest").content.decode()
    assert "Latest from people you follow" in latest and 'href="?order=ranked"' in latest
    assert "hello from bob" in latest and "you follow @bob" in latest


def test_home_pages_through_the_ranked_feed_and_shrugs_off_a_bad_cursor(client, alice, make_user, settings):
    settings.FEED_PER_AUTHOR = 10
    author = make_user(username="prolific")
    Follow.objects.create(follower=alice, followee=author)
    made = [PostFactory(author=author).pk for _ in range(10)]
    friends = [make_user() for _ in range(5)]
    for friend in friends:
        Follow.objects.create(follower=alice, followee=friend)
        made += [PostFactory(author=friend).pk for _ in range(7)]
    client.force_login(alice)
    seen, url = [], "/"
    while url:
        html = client.get(url).content.decode()
        seen += [int(pk) for pk in re.findall(r'<article class="card post" id="post-(\d+)"', html)]
        more = re.search(r'<a href="(\?order=ranked&amp;cursor=[^"]+)">More posts</a>', html)
        url = "/" + more.group(1).replace("&amp;", "&") if more else None
    assert len(seen) == len(set(seen)) == len(made) == 45
    assert client.get("/?cursor=nonsense").status_code == 200
