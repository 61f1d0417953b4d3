"""With REDIS_URL, the cache (config.redis_cache) makes one redis-py client and serves every call,
from any thread, with it: what one thread counts, another reads."""

import os
import threading

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis cache runs with REDIS_URL")


def test_counts_made_in_one_thread_are_read_in_another_through_one_client():
    cache = caches["default"]
    cache.delete("storm-shared-client")
    cache.add("storm-shared-client", 0)

    def count():
        for _ in range(10):
            cache.incr("storm-shared-client")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get("storm-shared-client") == 40
    client = cache._cache  # the backend's RedisCacheClient
    assert client.get_client(write=True) is client.get_client(write=True)


def test_a_count_from_zero_starts_with_an_expiry_and_counts_as_add_and_incr_did():
    cache = caches["default"]
    cache.delete_many(["storm-count", "storm-until"])

    assert cache.count_from_zero("storm-count", 60) == 1
    assert cache.count_from_zero("storm-count", 60) == 2
    assert cache.get("storm-count") == 2  # read back as the cache's own incr leaves it
    # Never a count without an expiry.
    assert 0 < cache._cache.get_client().ttl(cache.make_and_validate_key("storm-count")) <= 60

    count, until = cache.count_from_zero("storm-count", 60, until_key="storm-until", until=1234.5)
    assert (count, until) == (3, 1234.5)
    # The window's end is kept from its first attempt, not moved by later ones.
    assert cache.count_from_zero("storm-count", 60, until_key="storm-until", until=9999.0) == (4, 1234.5)
    assert cache.get("storm-until") == 1234.5


def test_a_count_awaited_in_the_loop_is_the_same_count_as_the_threads():
    """The socket's message budget is counted from the event loop (redis.asyncio), REST's from a thread:
    one count, one window end, whichever counts."""
    from asgiref.sync import async_to_sync

    cache = caches["default"]
    cache.delete_many(["storm-both", "storm-both-until"])

    async def count_in_loop(until):
        return await cache.acount_from_zero("storm-both", 60, until_key="storm-both-until", until=until)

    assert async_to_sync(count_in_loop)(1234.5) == (1, 1234.5)
    assert cache.count_from_zero("storm-both", 60, until_key="storm-both-until", until=9999.0) == (2, 1234.5)
    assert async_to_sync(count_in_loop)(9999.0) == (3, 1234.5)
    assert 0 < cache._cache.get_client().ttl(cache.make_and_validate_key("storm-both")) <= 60


def test_the_resume_limit_refuses_past_its_count_with_the_seconds_left_in_one_round_trip(monkeypatch):
    from datetime import timedelta

    from accounts import limits

    cache = caches["default"]
    limits.reset("storm-resume", "u1")
    calls = []
    monkeypatch.setattr(type(cache), "count_from_zero", _counting(type(cache).count_from_zero, calls))

    answers = [limits.take("storm-resume", "u1", limit=2, window=timedelta(minutes=1)) for _ in range(3)]

    assert answers[:2] == [None, None]
    assert 55 <= answers[2] <= 60  # the seconds left of the minute
    assert len(calls) == 3  # one script call per attempt, nothing else


def _counting(method, calls):
    def counted(self, *args, **kwargs):
        calls.append(args)
        return method(self, *args, **kwargs)

    return counted


def test_more_counts_at_once_than_the_loops_connections_all_count():
    """A reconnect storm's resumes count their limit from the event loop all at once: each waits for
    one of the loop client's few connections, none fails for want of one."""
    import asyncio

    from asgiref.sync import async_to_sync

    cache = caches["default"]
    cache.delete("storm-at-once")

    async def counts():
        return await asyncio.gather(*(cache.acount_from_zero("storm-at-once", 60) for _ in range(300)))

    assert sorted(async_to_sync(counts)()) == list(range(1, 301))
