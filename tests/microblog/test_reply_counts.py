"""A post's reply count is the viewer's own: the replies they would find in its thread.

The stored `reply_count` counts every alive reply (a ranking signal); what anyone is shown
is `visible_reply_count`, counted per viewer inside the query that loads the posts, so it
costs no query per post on any list.
"""

import pytest
from django.db import connection

from microblog.models import Follow, Mute, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(make_user, client_for, post_as, block, api):
    """alice's public post with a public reply (bob), a followers-only reply (carol) and a deleted one (dave)."""
    names = ("alice", "bob", "carol", "dave", "fan", "shunned", "muter", "zed")
    people = {name: make_user(username=name) for name in names}
    Follow.objects.create(follower=people["fan"], followee=people["carol"])
    block(people["bob"], people["shunned"])
    Mute.objects.create(user=people["muter"], muted=people["bob"])
    root = post_as(people["alice"], "what do you think? #thread")["id"]
    post_as(people["bob"], "public answer", reply_to=root)
    post_as(people["carol"], "for my followers", reply_to=root, visibility="followers")
    gone = post_as(people["dave"], "never mind", reply_to=root)["id"]
    assert client_for(people["dave"]).delete(f"/api/posts/{gone}/").status_code == 204
    clients = {name: client_for(person) for name, person in people.items()}
    clients["visitor"] = api
    return {"root": root, "people": people, "clients": clients}


# What each viewer would find under the post: bob's reply unless a block or a mute hides it,
# carol's for her followers (and herself), dave's for nobody.
EXPECTED = {"visitor": 1, "alice": 1, "zed": 1, "fan": 2, "carol": 2, "shunned": 0, "muter": 0}


def test_the_post_api_counts_the_replies_the_viewer_can_read(thread):
    root = thread["root"]
    assert Post.objects.get(pk=root).reply_count == 2  # stored: every alive reply, hidden ones too
    for viewer, expected in EXPECTED.items():
        client = thread["clients"][viewer]
        shown = client.get(f"/api/posts/{root}/").json()["reply_count"]
        readable = client.get(f"/api/posts/{root}/replies/").json()["results"]
        assert shown == len(readable) == expected, viewer


def test_every_list_shows_the_viewers_own_count(thread, client_for, follow):
    root = thread["root"]
    for name in EXPECTED:
        if name not in ("visitor", "alice"):
            Follow.objects.get_or_create(follower=thread["people"][name], followee=thread["people"]["alice"])
    lists = ["/api/timeline/public/", "/api/users/alice/posts/", "/api/tags/thread/posts/", "/api/search/?q=think"]
    for viewer, expected in EXPECTED.items():
        client = thread["clients"][viewer]
        paths = lists + ([] if viewer == "visitor" else ["/api/feed/?order=latest", "/api/feed/?order=ranked"])
        for path in paths:
            body = client.get(path).json()
            rows = body["posts"] if "posts" in body else body["results"]
            posts = [row.get("post", row) for row in rows]
            counts = [post["reply_count"] for post in posts if post["id"] == root]
            assert counts == [expected], (viewer, path)


REPLIES = '<span class="count replies">{}</span>'


def test_the_post_page_and_its_replies_page_show_the_viewers_count(thread, client, password):
    root = thread["root"]
    page = client.get(f"/p/{root}/").content.decode()
    # The action bar's reply count (templates/microblog/_post_actions.html).
    assert REPLIES.format(1) in page and REPLIES.format(2) not in page
    client.force_login(thread["people"]["fan"])
    assert REPLIES.format(2) in client.get(f"/p/{root}/").content.decode()
    client.force_login(thread["people"]["shunned"])
    page = client.get(f"/p/{root}/").content.decode()
    assert REPLIES.format(0) in page and "No replies yet" in page
    # The thread's parent above a reply shows the reader's count too.
    reply = Post.objects.get(reply_to_id=root, author__username="carol").pk
    client.force_login(thread["people"]["fan"])
    assert REPLIES.format(2) in client.get(f"/p/{reply}/").content.decode()


def test_many_readers_get_each_their_own_count_in_one_query(thread, django_assert_num_queries):
    """For a card pushed to a chat's members: every reader's count, the same rule, one query."""
    from microblog.selectors import visible_reply_counts

    people = thread["people"]
    readers = [people[name] for name in EXPECTED if name != "visitor"]
    with django_assert_num_queries(1):
        counts = visible_reply_counts(readers, [thread["root"]])
    assert {person.username: counts[(thread["root"], person.pk)] for person in readers} == {
        name: count for name, count in EXPECTED.items() if name != "visitor"
    }


def test_counting_per_viewer_adds_no_query_per_post(client_for, make_user, post_as, django_assert_num_queries):
    alice, reader = make_user(username="alice"), make_user(username="reader")
    Follow.objects.create(follower=reader, followee=alice)
    client = client_for(reader)
    client.get("/api/timeline/public/")  # the token lookup's first time
    for rounds in (2, 6):
        while Post.objects.filter(author=alice, reply_to__isnull=True).count() < rounds:
            root = post_as(alice, "a post")["id"]
            post_as(make_user(), "hidden from the reader", reply_to=root, visibility="followers")
            post_as(make_user(), "seen by the reader", reply_to=root)
        # As in test_social_api's list costs (the page's photos included).
        # PostgreSQL's Latest first asks whether the reader follows few people (selectors._follows_few).
        latest = 5 if connection.vendor == "postgresql" else 4
        costs = {"/api/timeline/public/": 3, "/api/users/alice/posts/": 5, "/api/feed/?order=latest": latest}
        for path, cost in costs.items():
            with django_assert_num_queries(cost):
                body = client.get(path).json()
            counts = [row.get("post", row)["reply_count"] for row in body["results"]]
            assert set(counts) - {0} == {1}, path  # the roots show 1, the replies 0


def test_the_stored_count_follows_replies_and_deletions_so_a_post_without_any_shows_none(
    client_for, make_user, post_as, follow
):
    """A post whose stored reply_count is 0 shows 0 without counting (models.visible_reply_count):
    the stored count must follow every reply and deletion, through the API, on every surface."""
    author, replier = make_user(), make_user()
    follow(author, replier)
    post = post_as(author, "a question")["id"]
    reader = client_for(author)

    def shown() -> set[int]:
        feeds = [reader.get(f"/api/feed/?order={order}").json()["results"] for order in ("ranked", "latest")]
        counts = {item["post"]["reply_count"] for feed in feeds for item in feed if item["post"]["id"] == post}
        return counts | {reader.get(f"/api/posts/{post}/").json()["reply_count"]}

    assert shown() == {0}
    first = post_as(replier, "an answer", reply_to=post)["id"]
    second = post_as(replier, "another", reply_to=post)["id"]
    assert shown() == {2}
    assert client_for(replier).delete(f"/api/posts/{first}/").status_code == 204
    assert shown() == {1}
    assert client_for(replier).delete(f"/api/posts/{second}/").status_code == 204
    assert shown() == {0}
    assert Post.objects.get(pk=post).reply_count == 0
    post_as(replier, "again", reply_to=post)
    assert shown() == {1}
