"""Concurrent likes and reposts on one post: counters stay equal to the rows behind them."""

import threading

import pytest
from django.db import connection

from microblog.models import Like, Post

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(jobs) -> list:
    """Runs the callables at once in threads (each on its own connection); returns their results."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)
    errors = []

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # re-raised in the test thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


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
