"""Presence: who has a socket open, told to contacts only (and never across a block).

Each open socket counts once in the cache (atomic incr/decr, in Redis with REDIS_URL so
every worker shares the count); the first socket of a user announces "online" to their
contacts, the last one closing announces "offline" and records when they were last seen.
The same count caps how many sockets one user may hold open (settings.MAX_SOCKETS_PER_USER,
checked by the /ws/ consumer): one counter, already shared by every worker, instead of a
second one to keep in step with it.

A worker killed with sockets open never decrements its counts. So a count lives only
PRESENCE_TTL seconds (90) unless refreshed, and every worker refreshes the counts of the
users it holds sockets for three times per TTL: what a dead worker counted is gone within
the TTL, and the user shows offline (over REST; contacts' open pages are not told).

Any app may ask which of some users are online (`online_among`), for instance to push a
light frame only to them.
"""

import asyncio
import logging
import threading
import weakref
from collections import Counter
from collections.abc import Iterable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from accounts.selectors import blocked_ids, contact_ids

from .layer_watch import LAYER_ERRORS
from .services import ephemeral_send

SEEN_TTL = 60 * 60 * 24 * 30
# One cache round trip per this many users.
LOOKUP_CHUNK = 1000

logger = logging.getLogger(__name__)

# Sockets open on this worker, per user id: the counts its heartbeat keeps alive.
_local_sockets: Counter[int] = Counter()
_local_lock = threading.Lock()


def socket_count_key(user_id: int) -> str:
    return f"presence:count:{user_id}"


def _seen_key(user_id: int) -> str:
    return f"presence:seen:{user_id}"


def _announce(user: User, online: bool) -> None:
    audience = contact_ids(user) - blocked_ids(user)
    ephemeral_send(user_ids=audience, frame={"type": "presence", "user": user.username, "online": online})


def _count_ttl() -> int:
    return settings.PRESENCE_TTL


def _count_local(user_id: int, change: int) -> None:
    with _local_lock:
        _local_sockets[user_id] += change
        if _local_sockets[user_id] <= 0:
            del _local_sockets[user_id]


def socket_opened(user: User, *, most: int | None = None) -> bool:
    """Counts one more open socket of `user`; False, and nothing counted, past `most` of them.

    Presence is a hint: with Redis unreachable the socket still opens, uncounted (and the
    cap does not hold until Redis is back; refusing everyone would be worse).
    """
    key = socket_count_key(user.pk)
    try:
        cache.add(key, 0, timeout=_count_ttl())
        count = cache.incr(key)
        if most is not None and count > most:
            cache.decr(key)
            return False
        _count_local(user.pk, +1)
        if count == 1:
            _announce(user, online=True)
    except LAYER_ERRORS as error:
        logger.warning("Presence of user %s not updated (%s)", user.pk, error)
        _count_local(user.pk, +1)  # the heartbeat puts it back into the shared count later
    except ValueError:  # the count expired between add and incr: this socket opens a new one
        cache.add(key, 1, timeout=_count_ttl())
        _count_local(user.pk, +1)
    return True


def socket_closed(user: User) -> None:
    """Counts one socket of `user` fewer; the last one announces "offline"."""
    _count_local(user.pk, -1)
    try:
        try:
            remaining = cache.decr(socket_count_key(user.pk))
        except ValueError:  # the count expired meanwhile
            remaining = 0
        if remaining <= 0:
            cache.delete(socket_count_key(user.pk))
            cache.set(_seen_key(user.pk), timezone.now().isoformat(), timeout=SEEN_TTL)
            _announce(user, online=False)
    except LAYER_ERRORS as error:
        logger.warning("Presence of user %s not updated (%s)", user.pk, error)


def presence_of(user_ids: list[int]) -> dict[int, dict]:
    """{user_id: {online, last_seen}} for the given users, in two cache reads."""
    counts = cache.get_many([socket_count_key(uid) for uid in user_ids])
    seen = cache.get_many([_seen_key(uid) for uid in user_ids])
    return {
        uid: {"online": counts.get(socket_count_key(uid), 0) > 0, "last_seen": seen.get(_seen_key(uid))}
        for uid in user_ids
    }


def online_among(user_ids: Iterable[int]) -> set[int]:
    """The users of `user_ids` with at least one open socket, read from the counters (no writes)."""
    ids = list(user_ids)
    online: set[int] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        counts = cache.get_many([socket_count_key(uid) for uid in chunk])
        online.update(uid for uid in chunk if counts.get(socket_count_key(uid), 0) > 0)
    return online


def counts_refresh() -> None:
    """Pushes back the expiry of the counts of every user with a socket on this worker."""
    with _local_lock:
        local = dict(_local_sockets)
    for user_id, sockets in local.items():
        # A count that expired meanwhile (the cache was unreachable, say) comes back with ours.
        if not cache.touch(socket_count_key(user_id), _count_ttl()):
            cache.add(socket_count_key(user_id), sockets, timeout=_count_ttl())


_heartbeats: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


def heartbeat_start() -> None:
    """Starts this worker's heartbeat (once per event loop) that calls counts_refresh."""
    loop = asyncio.get_running_loop()
    if loop not in _heartbeats:
        _heartbeats[loop] = loop.create_task(_heartbeat())


async def _heartbeat() -> None:
    while True:
        await asyncio.sleep(_count_ttl() / 3)
        try:
            await sync_to_async(counts_refresh, thread_sensitive=False)()
        except LAYER_ERRORS as error:
            logger.warning("Presence counts not refreshed (%s)", error)
