"""Who has a socket open: one cache counter per user, shared by every worker through Redis.

chat's presence (telling contacts who is online) keeps the counters; any app may ask
which of some users are online, for instance to push a light frame only to them.
"""

from collections.abc import Iterable

from django.core.cache import cache

# One cache round trip per this many users.
LOOKUP_CHUNK = 1000


def socket_count_key(user_id: int) -> str:
    return f"presence:count:{user_id}"


def online_among(user_ids: Iterable[int]) -> set[int]:
    """The users of `user_ids` with at least one open socket, read from the counters (no writes)."""
    ids = list(user_ids)
    online: set[int] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        counts = cache.get_many([socket_count_key(uid) for uid in chunk])
        online.update(uid for uid in chunk if counts.get(socket_count_key(uid), 0) > 0)
    return online
