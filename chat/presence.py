"""Presence: who is online, told to contacts only (and never across a block).

Each open socket counts once in the cache (atomic incr/decr, in Redis with REDIS_URL so
every worker shares the count); the first socket of a user announces "online" to their
contacts, the last one closing announces "offline" and records when they were last seen.
A worker killed with sockets open leaves its counts behind until they expire (a day).
"""

from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from accounts.selectors import blocked_ids, contact_ids
from realtime.presence import socket_count_key
from realtime.services import ephemeral_send

COUNT_TTL = 60 * 60 * 24
SEEN_TTL = 60 * 60 * 24 * 30


def _seen_key(user_id: int) -> str:
    return f"presence:seen:{user_id}"


def _announce(user: User, online: bool) -> None:
    audience = contact_ids(user) - blocked_ids(user)
    ephemeral_send(user_ids=audience, frame={"type": "presence", "user": user.username, "online": online})


def socket_opened(user: User) -> None:
    cache.add(socket_count_key(user.pk), 0, timeout=COUNT_TTL)
    if cache.incr(socket_count_key(user.pk)) == 1:
        _announce(user, online=True)


def socket_closed(user: User) -> None:
    try:
        remaining = cache.decr(socket_count_key(user.pk))
    except ValueError:  # the count expired meanwhile
        remaining = 0
    if remaining <= 0:
        cache.delete(socket_count_key(user.pk))
        cache.set(_seen_key(user.pk), timezone.now().isoformat(), timeout=SEEN_TTL)
        _announce(user, online=False)


def presence_of(user_ids: list[int]) -> dict[int, dict]:
    """{user_id: {online, last_seen}} for the given users, in two cache reads."""
    counts = cache.get_many([socket_count_key(uid) for uid in user_ids])
    seen = cache.get_many([_seen_key(uid) for uid in user_ids])
    return {
        uid: {"online": counts.get(socket_count_key(uid), 0) > 0, "last_seen": seen.get(_seen_key(uid))}
        for uid in user_ids
    }
