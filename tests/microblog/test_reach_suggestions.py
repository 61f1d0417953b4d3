"""Trending drivers and "Who to follow": reads decide who, and blocks, mutes and visibility hold."""

import pytest

from accounts.models import Block
from microblog import reads
from microblog.models import Mute
from microblog.services import post_repost, user_follow
from tests.factories import PostFactory


@pytest.fixture(autouse=True)
def fresh_reads(db):
    reads.buffer().discard()
    yield
    reads.buffer().discard()


@pytest.fixture
def climbing(make_user):
    """Four people post #climbing; kol's post is read most, then ann's repost of it, then bea's."""
    people = {name: make_user(username=name) for name in ("kol", "ann", "bea", "cid", "viewer")}
    readers = [make_user(username=f"reader{n}") for n in range(8)]
    kol_post = PostFactory(author=people["kol"], body="send it #climbing")
    bea_post = PostFactory(author=people["bea"], body="crimps #climbing")
    PostFactory(author=people["cid"], body="rest day #climbing")
    PostFactory(author=people["ann"], body="chalk #climbing")
    ann_repost, _ = post_repost(author=people["ann"], post=kol_post)
    secret = PostFactory(author=people["cid"], body="followers-only marker #climbing", visibility="followers")
    for reader in readers:
        reads.reads_record(reader, [kol_post, secret])
    for reader in readers[:5]:
        reads.reads_record(reader, [ann_repost])
    for reader in readers[:2]:
        reads.reads_record(reader, [bea_post])
    reads.reads_fold()
    return people


def drivers(client) -> list[str]:
    trends = {trend["tag"]: trend for trend in client.get("/api/trending/").json()}
    return trends["climbing"]["drivers"]


def test_trends_name_who_drove_them_by_reads_and_respect_blocks_and_mutes(client_for, client, climbing):
    viewer = climbing["viewer"]
    # cid's followers-only post drew 8 reads, but only public posts drive a trend.
    assert drivers(client_for(viewer)) == ["kol", "ann", "bea"]
    client.force_login(viewer)
    assert "driven by" in client.get("/explore/").content.decode()
    Mute.objects.create(user=viewer, muted=climbing["kol"])
    Block.objects.create(blocker=climbing["bea"], blocked=viewer)
    assert drivers(client_for(viewer)) == ["ann"]
    page = client.get("/explore/").content.decode()
    assert "@kol" not in page and "@bea" not in page


def test_who_to_follow_gives_people_with_reach_in_my_topics_with_reasons(client_for, client, climbing, make_user):
    viewer = climbing["viewer"]
    PostFactory(author=viewer, body="first time #climbing")
    friend = make_user(username="friend")
    user_follow(follower=viewer, followee=friend)
    user_follow(follower=friend, followee=climbing["ann"])
    user_follow(follower=viewer, followee=climbing["bea"])
    Block.objects.create(blocker=viewer, blocked=climbing["cid"])
    client.force_login(viewer)
    page = client.get("/explore/").content.decode()
    section = page[page.index('id="who-to-follow-heading"') :]
    section = section[: section.index("</section>")]
    assert "@kol" in section and "posts about #climbing" in section
    assert "@ann" in section and "followed by 1 person you follow" in section
    assert "@bea" not in section and "@cid" not in section and "@viewer" not in section
    assert 'name="next" value="/explore/"' in section
    followed = client.post("/u/kol/follow/", {"next": "/explore/"})
    assert followed.status_code == 302 and followed["Location"] == "/explore/"
    assert client.post("/u/ann/follow/", {"next": "https://evil.example/"})["Location"] == "/u/ann/"


def test_a_new_person_gets_active_authors_and_trend_drivers(client, climbing, make_user):
    newcomer = make_user(username="newcomer")
    client.force_login(newcomer)
    page = client.get("/explore/").content.decode()
    assert "Who to follow" in page and "@kol" in page
    assert "drives #climbing on Explore" in page or "active on the public timeline" in page
