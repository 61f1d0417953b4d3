"""Who sees what: public / followers / contacts posts, across every surface, for every kind of viewer."""

import pytest

from .conftest import SEES, VIEWERS

pytestmark = pytest.mark.django_db


def expected(viewer: str, *, public_only: bool = False, with_reply: bool = True, world) -> set[int]:
    ids = {world["posts"][v] for v, audience in SEES.items() if viewer in audience}
    if public_only:
        ids = {world["posts"]["public"]} if viewer in SEES["public"] else set()
    if with_reply and viewer in SEES["followers"] and not public_only:
        ids.add(world["reply"])
    return ids


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if "results" in body else body["posts"]
    return {row["id"] for row in rows}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_post_detail_answers_404_exactly_like_a_missing_post(world, viewer):
    client = world["clients"][viewer]
    missing = client.get("/api/posts/987654/")
    for post_id in [*world["posts"].values(), world["reply"]]:
        response = client.get(f"/api/posts/{post_id}/")
        if post_id in expected(viewer, world=world):
            assert response.status_code == 200
        else:
            assert (response.status_code, response.json()) == (404, missing.json())


@pytest.mark.parametrize("viewer", VIEWERS)
def test_lists_show_only_what_the_viewer_may_see(world, viewer):
    client = world["clients"][viewer]
    mine = expected(viewer, world=world)
    matrix = {*world["posts"].values(), world["reply"]}
    assert ids(client.get("/api/tags/MATRIX/posts/")) == mine
    assert ids(client.get("/api/timeline/public/")) & matrix == expected(viewer, public_only=True, world=world)
    # Search shows the viewer their own view (as tags do), not the public timeline.
    assert ids(client.get("/api/search/?q=zebra*")) == mine  # the bodies are zebrapublic, zebrafollowers...
    profile = client.get("/api/users/author/posts/")
    if viewer in {"blocked", "blocker"}:
        assert profile.status_code == 404
        assert client.get("/api/users/author/").status_code == 404
    else:
        assert ids(profile) == expected(viewer, with_reply=False, world=world)
        assert client.get("/api/users/author/").json()["posts_count"] == len(profile.json()["results"])
    replies = client.get(f"/api/posts/{world['posts']['followers']}/replies/")
    if viewer in SEES["followers"]:
        assert ids(replies) == {world["reply"]}
    else:
        assert replies.status_code == 404


def test_a_viewer_who_cannot_see_a_post_cannot_reply_like_or_repost_it(world):
    stranger = world["clients"]["stranger"]
    hidden = world["posts"]["followers"]
    response = stranger.post("/api/posts/", {"body": "hi", "reply_to": hidden}, format="json")
    missing = stranger.post("/api/posts/", {"body": "hi", "reply_to": 10**9}, format="json")
    assert response.status_code == missing.status_code == 400
    assert response.json() == missing.json() and response.json()["code"] == "reply_to_not_found"
    assert stranger.post(f"/api/posts/{hidden}/like/").status_code == 404
    assert stranger.post(f"/api/posts/{hidden}/bookmark/").status_code == 404
    assert stranger.post(f"/api/posts/{hidden}/repost/").status_code == 404
    assert stranger.get(f"/api/posts/{hidden}/reposts/").status_code == 404
    blocked = world["clients"]["blocked"]
    public = world["posts"]["public"]
    assert blocked.post(f"/api/posts/{public}/like/").status_code == 404
    assert blocked.post("/api/users/author/follow/").status_code == 404


def test_a_block_hides_reposts_and_replies_that_hang_off_the_blocked_persons_posts(
    make_user, client_for, post_as, block
):
    alice, bob, mallory = (make_user(username=name) for name in ("alice", "bob", "mallory"))
    original = post_as(mallory, "from mallory")["id"]
    repost = client_for(bob).post(f"/api/posts/{original}/repost/", {"comment": "look"}, format="json").json()["id"]
    reply = post_as(bob, "answering mallory", reply_to=original)["id"]
    assert client_for(alice).get(f"/api/posts/{repost}/").status_code == 200
    block(alice, mallory)
    for post_id in (original, repost, reply):
        assert client_for(alice).get(f"/api/posts/{post_id}/").status_code == 404
    assert ids(client_for(alice).get("/api/timeline/public/")) == set()


def test_trending_counts_public_posts_only(make_user, client_for, post_as):
    people = [make_user(username=f"poster{i}") for i in range(4)]
    post_as(people[0], "#Quiet one", visibility="followers")
    post_as(people[1], "#quiet two", visibility="contacts")
    post_as(people[2], "#quiet three")
    for person in people[:3]:
        post_as(person, "#Loud day# is here")
    trends = client_for(people[3]).get("/api/trending/").json()
    assert [trend["tag"] for trend in trends] == ["loud day"]
    assert (trends[0]["posts"], trends[0]["authors"]) == (3, 3)
    assert set(trends[0]) == {"tag", "posts", "authors", "score", "why", "drivers"}


def test_a_public_reply_deep_in_a_followers_only_thread_stays_in_that_circle(
    make_user, api, client_for, post_as, follow
):
    alice, bob, carol, stranger = (make_user(username=n) for n in ("alice", "bob", "carol", "stranger"))
    follow(bob, alice)
    follow(carol, bob)
    root = post_as(alice, "for my followers", visibility="followers")["id"]
    middle = post_as(bob, "public answer", reply_to=root)["id"]
    deep = post_as(bob, "public answer to my answer #deep", reply_to=middle)["id"]
    assert client_for(bob).get(f"/api/posts/{deep}/").status_code == 200
    for viewer in (client_for(carol), client_for(stranger), api):  # carol follows bob, not alice
        assert viewer.get(f"/api/posts/{deep}/").status_code == 404
        assert viewer.get("/api/tags/deep/posts/").json()["results"] == []
        assert viewer.get("/api/users/bob/posts/").json()["results"] == []
    assert client_for(bob).post(f"/api/posts/{deep}/repost/").status_code == 400  # not public all the way up
    client_for(alice).delete(f"/api/posts/{root}/")
    assert client_for(stranger).get(f"/api/posts/{deep}/").status_code == 404  # deleting does not widen it
    assert client_for(bob).get(f"/api/posts/{deep}/").status_code == 200


def test_visibility_for_many_viewers_at_once_matches_each_viewers_own(world, django_user_model, monkeypatch):
    """What pushes a shared post's live card to chat members: one query for many readers, same rule."""
    from microblog import selectors

    people = {name: django_user_model.objects.get(username=name) for name in VIEWERS if name != "anonymous"}
    matrix = {*world["posts"].values(), world["reply"]}
    for per_query in (200, 2):
        monkeypatch.setattr(selectors, "VIEWERS_PER_QUERY", per_query)
        pairs = selectors.visible_pairs(list(people.values()), matrix)
        for name, person in people.items():
            assert {post for post, viewer in pairs if viewer == person.pk} == expected(name, world=world)


def test_the_feed_news_audience_matches_each_followers_own_view(world, django_user_model, make_user, client_for):
    """`feed_followers_seeing` (for `feed.new`) and `people_seeing` (for mentions) restate the visibility rule
    set-wise; they must not drift from it.

    The matrix holds every visibility, a reply, and a repost chain (the author's post reposted
    by the follower, that repost reposted with a comment by a relay): the chain's authors, and
    a mute of the original's author by someone who follows only the reposters.
    """
    from microblog.models import Follow, Mute, Post
    from microblog.selectors import feed_followers_seeing, people_seeing, posts_visible

    people = [django_user_model.objects.get(username=name) for name in VIEWERS if name != "anonymous"]
    muter, relay = make_user(username="muter"), make_user(username="relay")
    people += [muter, relay]
    authors = {name: django_user_model.objects.get(username=name) for name in ("author", "follower")}
    authors["relay"] = relay
    # Everyone follows every author (rows made directly: a block would refuse the follow now).
    Follow.objects.bulk_create(
        [Follow(follower=p, followee=a) for p in people for a in authors.values() if p.pk != a.pk],
        ignore_conflicts=True,
    )
    Mute.objects.create(user=muter, muted=authors["author"])
    first = client_for(authors["follower"]).post(f"/api/posts/{world['posts']['public']}/repost/")
    second = client_for(relay).post(f"/api/posts/{first.json()['id']}/repost/", {"comment": "passing it on"})
    assert (first.status_code, second.status_code) == (201, 201)
    chain = [first.json()["id"], second.json()["id"]]
    checked = 0
    for post in Post.objects.filter(pk__in=[*world["posts"].values(), world["reply"], *chain]):
        heard = set(feed_followers_seeing(post).values_list("follower_id", flat=True))
        would_see = {
            person.pk
            for person in people
            if person.pk != post.author_id and posts_visible(person).not_muted_by(person).filter(pk=post.pk).exists()
        }
        assert heard - {post.author_id} == would_see, post.body
        # `people_seeing` (who a mention may notify) is the same rule without the mutes.
        seeing = {person.pk for person in people if posts_visible(person).filter(pk=post.pk).exists()}
        assert people_seeing(post, [person.pk for person in people]) == seeing, post.body
        checked += len(people)
    assert checked == 6 * len(people)
    # The chain's branch ran: the muter follows both reposters yet hears neither repost of the muted author's post.
    for repost in chain:
        assert muter.pk not in set(
            feed_followers_seeing(Post.objects.get(pk=repost)).values_list("follower_id", flat=True)
        )


def test_moments_show_the_contacts_only_post_to_the_author_and_contacts_only(world):
    for viewer in VIEWERS[:-1]:
        moments = world["clients"][viewer].get("/api/feed/?order=moments").json()["results"]
        shown = {item["post"]["id"] for item in moments}
        assert shown == ({world["posts"]["contacts"]} if viewer in SEES["contacts"] else set()), viewer
