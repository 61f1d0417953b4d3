"""Fixed-window counters in the cache, for logins, sign-ups and the other abuse limits.

DRF's throttles read, then write, so a parallel burst slips past them. These use
`cache.add` + `cache.incr`, which are atomic in Redis and in the local-memory cache,
so the limit holds under concurrency and across workers once REDIS_URL is set.
`take` counts an attempt before it is made: of twenty parallel attempts against a
limit of five, five get a count within the limit and fifteen are refused.
"""

import contextlib
import hashlib
import math
import time
from datetime import timedelta

from django.core.cache import cache


def _keys(scope: str, subject: str) -> tuple[str, str]:
    # Hashed: subjects are user input (any string a client sends as a username).
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"limit:{scope}:{digest}:count", f"limit:{scope}:{digest}:until"


def retry_after(scope: str, subject: str, *, limit: int) -> int | None:
    """Seconds until `subject` may try again, or None when it is under its limit."""
    count_key, until_key = _keys(scope, subject)
    values = cache.get_many([count_key, until_key])
    until = values.get(until_key)
    if until is None or values.get(count_key, 0) < limit:
        return None
    return max(1, math.ceil(until - time.time()))


def record(scope: str, subject: str, *, window: timedelta) -> int:
    """Counts one attempt; returns the count in the current window, this one included."""
    count_key, until_key = _keys(scope, subject)
    seconds = int(window.total_seconds())
    cache.add(until_key, time.time() + seconds, timeout=seconds)
    cache.add(count_key, 0, timeout=seconds)
    try:
        return cache.incr(count_key)
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(until_key, time.time() + seconds, timeout=seconds)
        cache.set(count_key, 1, timeout=seconds)
        return 1


def take(scope: str, subject: str, *, limit: int, window: timedelta) -> int | None:
    """Counts one attempt; None when it is within the limit, else the seconds to wait."""
    if record(scope, subject, window=window) <= limit:
        return None
    return retry_after(scope, subject, limit=limit) or 1


def forgive(scope: str, subject: str) -> None:
    """Takes back one counted attempt (a login that turned out right)."""
    count_key, _ = _keys(scope, subject)
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(count_key)


def reset(scope: str, subject: str) -> None:
    cache.delete_many(list(_keys(scope, subject)))
