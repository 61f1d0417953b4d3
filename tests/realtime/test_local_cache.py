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


def full_cache(name: str, monkeypatch, now: list[float]) -> CountingLocMemCache:
    monkeypatch.setattr(locmem.time, "time", lambda: now[0])  # the clock both caches read
    cache = CountingLocMemCache(name, {"OPTIONS": {"MAX_ENTRIES": 9}})
    cache.clear()
    return cache


def test_a_full_cache_drops_the_expired_before_any_live_entry(monkeypatch):
    now = [1_000_000.0]
    cache = full_cache("counting-full", monkeypatch, now)
    for n in range(5):
        cache.set(f"stale-{n}", n, timeout=10)  # windows that will have ended
    for n in range(4):
        cache.count_from_zero(f"live-{n}", 600)  # counts still running (a presence, a limit)
    now[0] += 30
    cache.count_from_zero("newcomer", 600)  # the tenth entry: the cache is full
    assert [cache.get(f"live-{n}") for n in range(4)] == [1, 1, 1, 1]
    assert cache.get("newcomer") == 1
    assert len(cache._cache) == 5, "the expired entries were not the ones dropped"


def test_a_cache_full_of_live_entries_drops_the_least_recently_used(monkeypatch):
    now = [1_000_000.0]
    cache = full_cache("counting-lru", monkeypatch, now)
    for n in range(9):
        cache.set(f"live-{n}", n, timeout=600)
    assert cache.get("live-0") == 0  # read: now the most recently used
    cache.set("newcomer", 9, timeout=600)
    assert [cache.get(f"live-{n}") for n in range(1, 4)] == [None, None, None]
    assert cache.get("live-0") == 0 and cache.get("newcomer") == 9 and cache.get("live-8") == 8


def test_expired_entries_are_let_go_within_a_minute_of_writes(monkeypatch):
    now = [1_000_000.0]
    cache = full_cache("counting-sweep", monkeypatch, now)
    cache.clear()
    for n in range(3):
        cache.set(f"stale-{n}", n, timeout=10)  # never read again: nothing else would drop them
    now[0] += 30
    cache.set("live", 1, timeout=600)
    assert len(cache._cache) == 4  # no sweep yet: a sweep passes over every entry, so it is rare
    now[0] += 31
    cache.set("live", 2, timeout=600)
    assert len(cache._cache) == 1 and cache.get("live") == 2
