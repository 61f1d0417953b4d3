"""Fixed-window counters in the cache, for logins, sign-ups and the other abuse limits.

DRF's throttles read, then write, so a parallel burst slips past them. These count with
common.counters (`cache.add` + `cache.incr`, atomic in the local-memory cache; one script on
Redis), so the limit holds under concurrency and across workers once REDIS_URL is set.
`take` counts an attempt before it is made: of twenty parallel attempts against a
limit of five, five get a count within the limit and fifteen are refused.

`pace` is the soft kind: past its free attempts it lets one through at a time, each
followed by a wait that doubles, a gate opened with `cache.add` (one winner in a burst).
`mark` and `marked` remember that a subject has been seen, for a while.
"""

import contextlib
import hashlib
import math
import time
from datetime import timedelta

from django.core.cache import cache

from common.counters import acount_from_zero, count_from_zero


def _key(scope: str, subject: str, kind: str) -> str:
    # Hashed: subjects are user input (any string a client sends as a username).
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"limit:{scope}:{digest}:{kind}"


def _keys(scope: str, subject: str) -> tuple[str, str]:
    return _key(scope, subject, "count"), _key(scope, subject, "until")


def record(scope: str, subject: str, *, window: timedelta) -> int:
    """Counts one attempt; returns the count in the current window, this one included."""
    return _record(scope, subject, window=window)[0]


def _record(scope: str, subject: str, *, window: timedelta) -> tuple[int, float]:
    """record's count, and the time the window ends (on Redis both in one round trip)."""
    return count_from_zero(**_counted_window(scope, subject, window))


def _counted_window(scope: str, subject: str, window: timedelta) -> dict:
    count_key, until_key = _keys(scope, subject)
    seconds = int(window.total_seconds())
    return {"key": count_key, "timeout": seconds, "until_key": until_key, "until": time.time() + seconds}


def take(scope: str, subject: str, *, limit: int, window: timedelta) -> int | None:
    """Counts one attempt; None when it is within the limit, else the seconds to wait."""
    return _wait(*_record(scope, subject, window=window), limit=limit)


async def atake(scope: str, subject: str, *, limit: int, window: timedelta) -> int | None:
    """take, from the event loop (chat's socket counts every frame it is sent)."""
    return _wait(*await acount_from_zero(**_counted_window(scope, subject, window)), limit=limit)


def _wait(count: int, until: float, *, limit: int) -> int | None:
    return None if count <= limit else max(1, math.ceil(until - time.time()))


def pace(scope: str, subject: str, *, free: int, window: timedelta, first: timedelta, longest: timedelta) -> int | None:
    """Counts one attempt; None when it may go ahead, else the seconds to wait.

    The first `free` attempts in the window go ahead. After that one goes ahead at a time,
    and the next waits `first`, then twice as long after each attempt that went ahead, up to
    `longest`: a slowdown, never a lock. Refused attempts are not counted, so hammering
    during a wait does not lengthen the next one.
    """
    count = record(scope, subject, window=window)
    if count <= free:
        return None
    wait = min(longest.total_seconds(), first.total_seconds() * 2 ** min(count - free - 1, 32))
    wait = max(1, math.ceil(wait))
    gate_key = _key(scope, subject, "gate")
    now = time.time()
    if cache.add(gate_key, now + wait, timeout=wait):
        return None
    forgive(scope, subject)
    until = cache.get(gate_key)
    return max(1, math.ceil(until - now)) if until is not None else 1


def mark(scope: str, subject: str, *, remember: timedelta) -> None:
    cache.set(_key(scope, subject, "mark"), True, timeout=int(remember.total_seconds()))


def marked(scope: str, subject: str) -> bool:
    return cache.get(_key(scope, subject, "mark"), False)


def forgive(scope: str, subject: str) -> None:
    """Takes back one counted attempt (a login that turned out right)."""
    count_key, _ = _keys(scope, subject)
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(count_key)


def reset(scope: str, subject: str) -> None:
    cache.delete_many(list(_keys(scope, subject)))
