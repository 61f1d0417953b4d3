"""Concurrent likes and reposts on one post: counters stay equal to the rows behind them."""

import pytest

from microblog.models import Follow, Like, Notification, Post
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_likes_and_unlikes_keep_like_count_equal_to_rows(make_user, client_for, post_as):
    post = post_as(make_user(), "race me")
    url = f"/api/posts/{post['id']}/like/"
    clients = [client_for(make_user()) for _ in range(6)]

    def churn(client):
        def job():
            codes = [client.post(url).status_code, client.post(url).status_code, client.delete(url).status_code]
            codes.append(client.post(url).status_code)
            return codes

        return job

    results = run_together([churn(client) for client in clients])
    assert all(code == 200 for codes in results for code in codes)
    stored = Post.objects.get(pk=post["id"])
    assert stored.like_count == Like.objects.filter(post_id=post["id"]).count() == len(clients)


def test_the_same_plain_repost_sent_at_once_is_stored_once(make_user, client_for, post_as):
    post = post_as(make_user(), "repost me")
    client = client_for(make_user())
    results = run_together([lambda: client.post(f"/api/posts/{post['id']}/repost/") for _ in range(5)])
    assert sorted(response.status_code for response in results) == [200, 200, 200, 200, 201]
    assert len({response.json()["id"] for response in results}) == 1
    assert Post.objects.get(pk=post["id"]).repost_count == Post.objects.filter(repost_of_id=post["id"]).count() == 1


def test_concurrent_follows_count_each_follower_once(make_user, client_for):
    star = make_user(username="star")
    fans = [make_user() for _ in range(6)]
    url = "/api/users/star/follow/"

    def churn(client):
        def job():
            return [client.post(url).status_code, client.post(url).status_code, client.delete(url).status_code]

        return job

    results = run_together([churn(client_for(fan)) for fan in fans] + [lambda: client_for(fans[0]).post(url)])
    assert all(code == 200 for codes in results[:-1] for code in codes)
    again = [client_for(fan) for fan in fans]
    run_together([lambda client=client: client.post(url) for client in again])
    assert Follow.objects.filter(followee=star).count() == len(fans)
    assert client_for(star).get("/api/users/star/").json()["followers_count"] == len(fans)
    follows_told = Notification.objects.filter(recipient=star, kind=Notification.Kind.FOLLOW)
    assert sorted(follows_told.values_list("actor_id", flat=True)) == sorted(fan.pk for fan in fans)
