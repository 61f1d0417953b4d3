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
import contextlib
import logging
import threading
import weakref
from collections import Counter
from collections.abc import Iterable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Contact, User
from accounts.selectors import people_hidden_from
from common.counters import count_from_zero
from common.prepared import Prepared

from .layer_watch import LAYER_ERRORS
from .services import ephemeral_send, ephemeral_send_async

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


# Asked for each user's first socket (every user at once after a restart): one statement, built
# once (common.prepared); two ORM queries cost about 0.7 ms of Python against 0.1 ms of database.
@Prepared
def _contacts_not_hidden(user_id: int):
    contacts = Contact.objects.filter(user_id=user_id).exclude(contact_id__in=people_hidden_from([user_id]))
    return contacts.values_list("contact_id", flat=True)


def _audience(user: User) -> set[int]:
    """The user's contacts, less anyone hidden from them by a block either way."""
    return set(_contacts_not_hidden(user.pk))


def _frame(user: User, online: bool) -> dict:
    return {"type": "presence", "user": user.username, "online": online}


def _count_ttl() -> int:
    return settings.PRESENCE_TTL


def _count_local(user_id: int, change: int) -> None:
    with _local_lock:
        _local_sockets[user_id] += change
        if _local_sockets[user_id] <= 0:
            del _local_sockets[user_id]


def socket_opening(user: User, *, most: int | None = None) -> tuple[bool, set[int] | None]:
    """Counts one more open socket of `user`: (False, None), and nothing counted, past `most` of
    them; else (True, the contacts to tell "online" when this is the user's first socket, or None).

    Presence is a hint: with Redis unreachable the socket still opens, uncounted (and the
    cap does not hold until Redis is back; refusing everyone would be worse).
    """
    key = socket_count_key(user.pk)
    try:
        count = count_from_zero(key, _count_ttl())
        if most is not None and count > most:
            with contextlib.suppress(ValueError):  # expired meanwhile: nothing left to take back
                cache.decr(key)
            return False, None
        _count_local(user.pk, +1)
        if count == 1:
            return True, _audience(user)
    except LAYER_ERRORS as error:
        logger.warning("Presence of user %s not updated (%s)", user.pk, error)
        _count_local(user.pk, +1)  # the heartbeat puts it back into the shared count later
    return True, None


def socket_closing(user: User) -> set[int] | None:
    """Counts one socket of `user` fewer: the contacts to tell "offline" when it was the last, or None."""
    _count_local(user.pk, -1)
    try:
        try:
            remaining = cache.decr(socket_count_key(user.pk))
        except ValueError:  # the count expired meanwhile
            remaining = 0
        if remaining <= 0:
            cache.delete(socket_count_key(user.pk))
            cache.set(_seen_key(user.pk), timezone.now().isoformat(), timeout=SEEN_TTL)
            return _audience(user)
    except LAYER_ERRORS as error:
        logger.warning("Presence of user %s not updated (%s)", user.pk, error)
    return None


def socket_opened(user: User, *, most: int | None = None) -> bool:
    """socket_opening, and the "online" told from this thread: False past `most` sockets."""
    opened, audience = socket_opening(user, most=most)
    if audience:
        ephemeral_send(user_ids=audience, frame=_frame(user, True))
    return opened


def socket_closed(user: User) -> None:
    """socket_closing, and the last socket's "offline" told from this thread."""
    audience = socket_closing(user)
    if audience:
        ephemeral_send(user_ids=audience, frame=_frame(user, False))


async def announce(user: User, audience: set[int] | None, *, online: bool) -> None:
    """Tells `audience` (from socket_opening / socket_closing) from the event loop itself: the
    presence thread does not wait for the loop to make the sends (during a reconnect storm that
    wait, once per user, was a quarter of a connect)."""
    if audience:
        await ephemeral_send_async(user_ids=audience, frame=_frame(user, online))


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
