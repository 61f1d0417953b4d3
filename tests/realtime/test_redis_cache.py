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
