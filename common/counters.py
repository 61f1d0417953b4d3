"""A count that starts at zero with an expiry, counted up one at a time, on whichever cache is set.

Rate limits (accounts.limits) and presence (realtime.presence) count this way. On Redis it is one
script call (config.redis_cache), on the embedded default's cache one step under its lock
(config.local_cache); on any other cache, `add` then `incr`, which are atomic in Django's
local-memory cache too.
"""

from asgiref.sync import sync_to_async
from django.core.cache import cache


def count_from_zero(key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
    """One more in the count at `key`, made at 0 with `timeout` seconds to live if missing: the count;
    with `until_key`, (the count, the value kept there: `until` if it was missing)."""
    if hasattr(cache, "count_from_zero"):
        return cache.count_from_zero(key, timeout, until_key=until_key, until=until)
    if until_key is not None:
        cache.add(until_key, until, timeout=timeout)
    cache.add(key, 0, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this one opens a new count
        if until_key is not None:
            cache.set(until_key, until, timeout=timeout)
        cache.set(key, 1, timeout=timeout)
        count = 1
    if until_key is None:
        return count
    return count, cache.get(until_key, until)


def counted_at_once() -> bool:
    """Whether this process's memory answers a count (the embedded default's cache): nothing to wait for."""
    return getattr(cache, "counts_in_process", False)


_count_in_a_thread = sync_to_async(count_from_zero, thread_sensitive=False)


async def acount_from_zero(key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
    """count_from_zero from the event loop. Redis's is awaited there (redis.asyncio), the embedded
    default's memory answered at once (config.local_cache: microseconds, less than a hop into a
    thread and back); any other cache is waited for in a thread."""
    if hasattr(cache, "acount_from_zero"):
        return await cache.acount_from_zero(key, timeout, until_key=until_key, until=until)
    return await _count_in_a_thread(key, timeout, until_key=until_key, until=until)
