"""The embedded default's cache (config.local_cache) counts a limit's window in one step, with the
answers the generic path (common.counters: add, add, incr, get on Django's LocMemCache) gives."""

import asyncio
import threading

from django.core.cache.backends import locmem

from common import counters
from config.local_cache import CountingLocMemCache


def test_counts_as_add_and_incr_did_on_djangos_local_memory_cache(monkeypatch):
    ours = CountingLocMemCache("counting-ours", {})
    django_s = locmem.LocMemCache("counting-django", {})
    ours.clear()
    django_s.clear()
    now = [1_000_000.0]
    monkeypatch.setattr(locmem.time, "time", lambda: now[0])
    monkeypatch.setattr(counters, "cache", django_s)

    def both(**kwargs):
        return ours.count_from_zero(**kwargs), counters.count_from_zero(**kwargs)

    seen = []
    for step, until in enumerate([10.0, 20.0, 30.0, 40.0]):
        seen.append(both(key="count", timeout=60, until_key="until", until=until))
        seen.append(both(key="plain", timeout=60))
        now[0] += 25 if step != 1 else 40  # the window of 60 s ends after the third attempt
    assert [a for a, _ in seen] == [b for _, b in seen]
    # What a user is told: the third attempt is counted from a new window, whose end is its own.
    assert [a for a, _ in seen][::2] == [(1, 10.0), (2, 10.0), (1, 30.0), (2, 30.0)]
    assert ours.get("count") == 2  # read back as Django's own incr leaves it
    assert ours.incr("count") == 3


def test_counts_from_many_threads_and_the_loop_lose_nothing():
    cache = CountingLocMemCache("counting-threads", {})
    cache.clear()

    def count():
        for _ in range(200):
            cache.count_from_zero("shared", 60, until_key="shared-until", until=5.0)

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert asyncio.run(cache.acount_from_zero("shared", 60, until_key="shared-until", until=9.0)) == (801, 5.0)
