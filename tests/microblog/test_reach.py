"""Reach for the author: the repost cascade (parents, depth, breadth, shares), series, and who may see it."""

from datetime import timedelta

import pytest

from accounts.models import Block
from microblog import reads
from microblog.models import Post
from microblog.services import post_repost, user_follow
from tests.factories import PostFactory


@pytest.fixture(autouse=True)
def fresh_reads(db):
    reads.buffer().discard()
    yield
    reads.buffer().discard()


def shown_to(post, people):
    for person in people:
        reads.reads_record(person, [post])


def test_a_cascade_of_reposts_of_reposts_gives_depth_breadth_parents_and_shares(client_for, make_user):
    names = ("author", "kol", "fan1", "fan2", "fan3", "late")
    author, kol, fan1, fan2, fan3, late = (make_user(username=name) for name in names)
    readers = [make_user(username=f"reader{n}") for n in range(10)]
    post = PostFactory(author=author, body="the original")
    kol_repost, _ = post_repost(author=kol, post=post)
    fan1_repost, _ = post_repost(author=fan1, post=kol_repost)
    post_repost(author=fan2, post=kol_repost)
    fan3_repost, _ = post_repost(author=fan3, post=fan1_repost)
    late_repost, _ = post_repost(author=late, post=post)
    shown_to(post, readers[:2])
    shown_to(kol_repost, readers[:6])
    shown_to(fan3_repost, readers[6:8])
    shown_to(late_repost, readers[8:9])
    reads.reads_fold()

    response = client_for(author).get(f"/api/posts/{post.pk}/reach/")
    assert response.status_code == 200
    reach = response.json()
    by_user = {row["username"]: row for row in reach["cascade"]}
    assert {name: (row["parent"], row["depth"], row["reads"]) for name, row in by_user.items()} == {
        "kol": (None, 1, 6),
        "fan1": (kol_repost.pk, 2, 0),
        "fan2": (kol_repost.pk, 2, 0),
        "fan3": (fan1_repost.pk, 3, 2),
        "late": (None, 1, 1),
    }
    assert (reach["reads"], reach["total_reads"], reach["reposts"]) == (2, 11, 5)
    assert reach["summary"]["depth"] == 3 and reach["summary"]["breadth"] == 2
    assert reach["summary"]["levels"] == [2, 2, 1]
    top = reach["summary"]["top_reposters"]
    assert top[0] == {"username": "kol", "repost": kol_repost.pk, "reads": 8, "share": round(8 / 11, 4)}
    assert [row["username"] for row in top] == ["kol", "fan1", "fan3", "late"]
    assert sum(bucket["reposts"] for bucket in reach["series"]) == 5
    assert sum(bucket["reads"] for bucket in reach["series"]) == 11
    assert all(bucket["span"] == "hour" for bucket in reach["series"])
    assert reach["plot"].startswith("<svg") and "depth 1: 2, depth 2: 2, depth 3: 1" in reach["plot"]


def test_anyone_but_the_author_gets_the_404_of_a_missing_post(client_for, alice, bob):
    post = PostFactory(author=alice, body="mine")
    missing = Post.objects.order_by("-pk").first().pk + 100
    not_yours = client_for(bob).get(f"/api/posts/{post.pk}/reach/")
    nothing = client_for(bob).get(f"/api/posts/{missing}/reach/")
    assert not_yours.status_code == nothing.status_code == 404
    assert not_yours.content == nothing.content
    assert client_for(alice).get(f"/api/posts/{missing}/reach/").content == nothing.content


def test_followers_only_replies_and_blocked_reposters_never_show(client_for, alice, bob, carol, make_user):
    secret = "followers-only reply canary 51c9"
    post = PostFactory(author=alice, body="public post")
    hidden_reply = PostFactory(author=bob, body=secret, visibility="followers", reply_to=post)
    post_repost(author=carol, post=post, comment="carol's repost")
    blocked = make_user(username="blockedone")
    post_repost(author=blocked, post=post)
    Block.objects.create(blocker=alice, blocked=blocked)
    reach = client_for(alice).get(f"/api/posts/{post.pk}/reach/")
    text = reach.content.decode()
    assert secret not in text and str(hidden_reply.pk) not in [str(r["id"]) for r in reach.json()["cascade"]]
    assert reach.json()["replies"] == 0 and "blockedone" not in text
    assert [row["username"] for row in reach.json()["cascade"]] == ["carol"]
    user_follow(follower=alice, followee=bob)  # now alice may see bob's followers-only reply
    assert client_for(alice).get(f"/api/posts/{post.pk}/reach/").json()["replies"] == 1


def test_the_reach_panel_is_on_the_post_page_for_the_author_only(client, alice, bob):
    post = PostFactory(author=alice, body="look at me")
    post_repost(author=bob, post=post)
    client.force_login(alice)
    page = client.get(f"/p/{post.pk}/").content.decode()
    assert 'id="reach-heading"' in page and "<svg" in page and "Repost cascade: depth over time" in page
    client.force_login(bob)
    assert 'id="reach-heading"' not in client.get(f"/p/{post.pk}/").content.decode()


def test_ten_thousand_reposts_draw_a_bounded_picture(alice, make_user):
    from microblog.reach import PLOT_COLUMNS, PLOT_ROWS, CascadeNode, cascade_svg

    post = PostFactory(author=alice, body="viral")
    nodes = [CascadeNode(n, None, "x", 1 + n % 30, post.created_at + timedelta(seconds=n), 0) for n in range(10_000)]
    svg = cascade_svg(post, nodes)
    assert svg.count("<rect") <= PLOT_COLUMNS * PLOT_ROWS
    assert "depth 30: " in svg and f"{PLOT_ROWS}+" in svg
