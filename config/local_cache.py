"""The embedded default's cache: Django's local-memory cache with the counts of common.counters in
one step.

A rate limit's count (accounts.limits: every chat message, every resume, every login) is, on any
other cache, an `add` of the window's end, an `add` of the count, an `incr` and a `get`: four
passes through the cache, each checking its key character by character and pickling, 0.1 ms
together on this machine, on every message a socket sends. Here it is one pass under the cache's
lock, with the same answers: the count made at 0 with `timeout` seconds to live if missing, the
window's end kept from its first attempt. config.redis_cache has the same two methods for Redis.
"""

import pickle

from django.core.cache.backends.locmem import LocMemCache


class CountingLocMemCache(LocMemCache):
    # Counts are answered from this process's memory (common.counters.counted_at_once).
    counts_in_process = True

    def count_from_zero(self, key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
        """One more in the count at `key` (made at 0 with `timeout` seconds to live if missing): the
        count, or with `until_key`, (the count, the float stored there, added as `until` if missing)."""
        # Keys are the limits' own (scope and subject), never a client's bytes: made, not validated
        # for memcached, which this cache does not talk to.
        key = self.make_key(key)
        until_at = self.make_key(until_key) if until_key is not None else None
        with self._lock:
            if until_at is not None:
                if self._has_expired(until_at):
                    self._set(until_at, pickle.dumps(until, self.pickle_protocol), timeout)
                else:
                    until = pickle.loads(self._cache[until_at])  # noqa: S301 (pickled by this process, above)
            if self._has_expired(key):
                count = 1
                self._set(key, pickle.dumps(count, self.pickle_protocol), timeout)
            else:
                count = pickle.loads(self._cache[key]) + 1  # noqa: S301 (pickled by this process)
                self._cache[key] = pickle.dumps(count, self.pickle_protocol)
                self._cache.move_to_end(key, last=False)
        return count if until_key is None else (count, until)

    async def acount_from_zero(self, key: str, timeout: int, *, until_key: str | None = None, until: float = 0.0):
        """count_from_zero from the event loop: answered at once (memory, microseconds)."""
        return self.count_from_zero(key, timeout, until_key=until_key, until=until)
