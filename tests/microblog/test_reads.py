"""Reads (阅读数): distinct signed-in people a post was shown to, each once, folded in batches."""

import os
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from microblog import reads
from microblog.models import Post, PostRead
from microblog.services import user_follow
from tests.conftest import skip_or_fail
from tests.factories import ConversationFactory, PostFactory


@pytest.fixture(autouse=True)
def fresh_reads(db):
    """Nothing another test showed waits in the buffer."""
    reads.buffer().discard()
    yield
    reads.buffer().discard()


def read_count(post) -> int:
    reads.reads_fold()
    return Post.objects.get(pk=post.pk).read_count


def test_two_people_seeing_a_post_everywhere_count_two_and_its_author_none(client, client_for, alice, bob, carol):
    user_follow(follower=bob, followee=alice)
    user_follow(follower=carol, followee=alice)
    post = PostFactory(author=alice, body="seen three ways")
    conversation = ConversationFactory(creator=alice, members=[bob, carol], title="Friends")
    messages = f"/api/conversations/{conversation.pk}/messages/"
    assert client_for(alice).post(messages, {"shared_post": post.pk}, format="json").status_code == 201
    for person in (alice, bob, carol):
        client.force_login(person)
        assert "seen three ways" in client.get("/").content.decode()  # the feed page
        assert client.get(f"/p/{post.pk}/").status_code == 200  # the post page
        assert client.get(f"/chat/{conversation.pk}/").status_code == 200  # the card in the chat
        assert client_for(person).get(messages).json()["results"][-1]["shared_post"]["id"] == post.pk
        assert client_for(person).get("/api/feed/").status_code == 200
    assert read_count(post) == 2
    assert set(PostRead.objects.filter(post=post).values_list("user__username", flat=True)) == {"bob", "carol"}
    assert client_for(bob).get(f"/api/posts/{post.pk}/").json()["read_count"] == 2


def test_a_viewer_who_may_not_see_the_post_never_counts(client, client_for, alice, bob, carol, befriend):
    user_follow(follower=bob, followee=alice)
    post = PostFactory(author=alice, body="followers only", visibility="followers")
    conversation = ConversationFactory(creator=alice, members=[bob, carol], title="Mixed")
    messages = f"/api/conversations/{conversation.pk}/messages/"
    assert client_for(alice).post(messages, {"shared_post": post.pk}, format="json").status_code == 201
    assert client_for(carol).get(messages).json()["results"][-1]["shared_post"]["unavailable"] is True
    assert client_for(carol).get(f"/api/posts/{post.pk}/").status_code == 404
    client.force_login(carol)
    assert client.get(f"/p/{post.pk}/").status_code == 404
    client.get("/explore/")
    client.get(f"/chat/{conversation.pk}/")
    client_for(bob).get(f"/api/posts/{post.pk}/")
    assert read_count(post) == 1
    assert not PostRead.objects.filter(post=post, user=carol).exists()


def test_counts_are_humanised_by_locale(client, alice, bob):
    post = PostFactory(author=alice, body="popular")
    Post.objects.filter(pk=post.pk).update(read_count=12_345)
    client.force_login(bob)
    chinese = client.get(f"/p/{post.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").content.decode()
    assert "1.2万 reads" in chinese
    english = client.get(f"/p/{post.pk}/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").content.decode()
    assert "12.3K reads" in english and "万" not in english
    assert reads.read_count_label(999, chinese=False) == "999 reads"
    assert reads.read_count_label(1, chinese=True) == "1 read"
    assert reads.read_count_label(2_500_000, chinese=False) == "2.5M reads"
    assert reads.read_count_label(320_000_000, chinese=True) == "3.2亿 reads"


def test_counting_adds_no_query_to_a_feed_page(client_for, alice, bob, monkeypatch):
    for n in range(20):
        PostFactory(author=alice, body=f"post {n}")
    user_follow(follower=bob, followee=alice)
    feed = client_for(bob)
    feed.get("/api/feed/?order=latest")  # warm: token lookups and the like cached alike

    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert len(feed.get("/api/feed/?order=latest&limit=20").json()["results"]) == 20
        return len(captured)

    counting = queries_for_a_page()
    monkeypatch.setattr(reads, "reads_record", lambda viewer, posts: None)
    assert queries_for_a_page() == counting


def test_a_page_of_twenty_costs_one_redis_round_trip(client_for, alice, bob, settings):
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("needs REDIS_URL", "REQUIRE_SERVICES")
    settings.READS_BUFFER = "redis"
    for n in range(20):
        PostFactory(author=alice, body=f"post {n}")
    user_follow(follower=bob, followee=alice)
    redis_buffer = reads.buffer()
    redis_buffer.discard()
    trips = []
    real_pipeline, real_command = redis_buffer.client.pipeline, redis_buffer.client.execute_command

    def pipeline(*args, **kwargs):
        pipe = real_pipeline(*args, **kwargs)
        real_execute = pipe.execute
        pipe.execute = lambda *a, **k: trips.append("pipeline") or real_execute(*a, **k)
        return pipe

    redis_buffer.client.pipeline = pipeline
    redis_buffer.client.execute_command = lambda *a, **k: trips.append(a[0]) or real_command(*a, **k)
    try:
        assert len(client_for(bob).get("/api/feed/?order=latest&limit=20").json()["results"]) == 20
    finally:
        redis_buffer.client.pipeline, redis_buffer.client.execute_command = real_pipeline, real_command
    assert trips == ["pipeline"]
    assert redis_buffer.waiting() == 20


def test_a_buffer_past_its_threshold_folds_by_itself(client_for, alice, bob, settings):
    settings.READS_BUFFER = "memory"
    settings.READS_FOLD_THRESHOLD = 3
    posts = [PostFactory(author=alice, body=f"post {n}") for n in range(3)]
    for post in posts:
        client_for(bob).get(f"/api/posts/{post.pk}/")
    assert [Post.objects.get(pk=post.pk).read_count for post in posts] == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_views_while_folding_lose_nothing(make_user):
    """Many threads record reads while folds run: every distinct (post, person) is counted once."""
    author = make_user(username="author")
    viewers = [make_user(username=f"viewer{n}") for n in range(40)]
    posts = [PostFactory(author=author, body=f"post {n}") for n in range(10)]
    stop = threading.Event()

    def show(viewer):
        for _ in range(3):  # each person sees every post three times: counted once
            reads.reads_record(viewer, posts)

    def keep_folding():
        while not stop.is_set():
            reads.reads_fold()

    folder = threading.Thread(target=keep_folding)
    folder.start()
    threads = [threading.Thread(target=show, args=(viewer,)) for viewer in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    folder.join()
    reads.reads_fold()
    assert list(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("read_count", flat=True)) == [40] * 10
    assert PostRead.objects.count() == 400


def test_beat_folds_the_reads(client_for, alice, bob, settings):
    from microblog.tasks import fold_reads

    assert settings.CELERY_BEAT_SCHEDULE["fold-reads"]["task"] == "microblog.tasks.fold_reads"
    post = PostFactory(author=alice, body="read me")
    client_for(bob).get(f"/api/posts/{post.pk}/")
    assert Post.objects.get(pk=post.pk).read_count == 0  # nothing written by the view itself
    fold_reads.apply()
    assert Post.objects.get(pk=post.pk).read_count == 1


def test_pages_still_answer_when_redis_is_away(client_for, alice, bob, settings):
    settings.READS_BUFFER = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    post = PostFactory(author=alice, body="still here")
    assert client_for(bob).get(f"/api/posts/{post.pk}/").status_code == 200
