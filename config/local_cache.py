"""The embedded default's cache: Django's local-memory cache with the counts of common.counters in
one step.

A rate limit's count (accounts.limits: every chat message, every resume, every login) is, on any
other cache, an `add` of the window's end, an `add` of the count, an `incr` and a `get`: four
passes through the cache, each checking its key character by character and pickling, 0.1 ms
together on this machine, on every message a socket sends. Here it is one pass under the cache's
lock, with the same answers: the count made at 0 with `timeout` seconds to live if missing, the
window's end kept from its first attempt. config.redis_cache has the same two methods for Redis.

What it keeps is every online user's presence count and every limit's window: Django's default of
300 entries, full, dropped the least recently used third, live counts included (users shown
offline, limits forgotten, and with a few hundred users online each connect paid for a cull).
Here it holds LOCAL_CACHE_MAX_ENTRIES (settings), and when full, or once a minute on a write, the
expired entries go first; only then the least recently used.
"""

import pickle
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

# Seconds between two sweeps of the expired entries: often enough that the dead do not pile up to
# the ceiling, rarely enough that a sweep's pass over every entry (milliseconds at 100,000) is rare.
SWEEP_EVERY = 60.0
# When each named cache was last swept: the entries are shared by name between the instances
# Django makes for each thread, so the sweep's clock is too.
_swept_at: dict[str, float] = {}


class CountingLocMemCache(LocMemCache):
    # Counts are answered from this process's memory (common.counters.counted_at_once).
    counts_in_process = True

    def __init__(self, name, params):
        super().__init__(name, params)
        self._name = name
        _swept_at.setdefault(name, time.time())

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        # Called with the lock held, as Django's own.
        now = time.time()
        if now - _swept_at[self._name] >= SWEEP_EVERY:
            self._drop_expired(now)
        super()._set(key, value, timeout)

    def _cull(self):
        self._drop_expired(time.time())
        if len(self._cache) >= self._max_entries:
            super()._cull()

    def _drop_expired(self, now: float) -> None:
        _swept_at[self._name] = now
        for key in [key for key, expiry in self._expire_info.items() if expiry is not None and expiry <= now]:
            self._delete(key)

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
