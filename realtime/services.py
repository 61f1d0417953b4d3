"""Publishing events: number them per user, store them, push them after commit.

Services of chat and microblog call `events_publish` inside their transaction. The
seq numbers are assigned and the rows written in that transaction; the push goes
to the channel layer only once it commits, so nobody hears of a rolled-back row.
A push may still be dropped by a full channel: the client sees the jump in `seq`
and asks for `resume`, which reads the rows written here.
"""

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from common.pipelined import asked, columns

from .groups import broadcast_group, user_group
from .layer_watch import LAYER_ERRORS, report_failure
from .models import Event, UserStream

Frame = dict
FrameFor = Callable[[int], Frame]

logger = logging.getLogger(__name__)


@dataclass
class Publication:
    """One event for some users: stored as `ref`, pushed as `frame` (or a frame per user id)."""

    user_ids: Iterable[int]
    event_type: str
    ref: dict
    frame: Frame | FrameFor


def _seqs_reserve(counts: dict[int, int]) -> dict[int, int]:
    """Adds `counts[user]` to each user's counter in one statement and gives each new last seq
    (SQLite; PostgreSQL does it inside `_APPEND_EVENTS`).

    The UPDATE takes the database lock (SQLite IMMEDIATE) until commit, so concurrent publishers to
    one user serialize and the numbers grow by exactly one per event.
    """
    table = UserStream._meta.db_table
    user_ids = sorted(counts)
    cases = " ".join(["WHEN %s THEN %s"] * len(user_ids))
    placeholders = ", ".join(["%s"] * len(user_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name is the model's; every value goes through placeholders.
            f"UPDATE {table} SET last_seq = last_seq + (CASE user_id {cases} END) "  # noqa: S608
            f"WHERE user_id IN ({placeholders}) RETURNING user_id, last_seq",
            [value for uid in user_ids for value in (uid, counts[uid])] + user_ids,
        )
        lasts = dict(cursor.fetchall())
    missing = {uid: n for uid, n in counts.items() if uid not in lasts}
    if missing:
        # Users made without the post_save signal (bulk inserts): open their streams now.
        UserStream.objects.bulk_create([UserStream(user_id=uid) for uid in missing], ignore_conflicts=True)
        lasts.update(_seqs_reserve(missing))
    return lasts


def events_publish_many(publications: list[Publication]) -> None:
    """Appends every publication's events, numbered in list order per user, in a few statements.

    Pushes go out after commit, in one hop into the event loop (or, inside `pushes_deferred`,
    handed to the caller already in the loop).

    On PostgreSQL the database numbers the events itself (`_APPEND_EVENTS`: the users' counters
    and the events in one statement), and nothing here waits for its answer: inside `pipelined` it
    goes out with the transaction's other statements and its COMMIT, and the pushes, which carry the
    seqs, are made from the answer after the commit. A chat send is then two round trips, the reads
    and the transaction, where asking for the seqs first made it three (bench/RESULTS.md, "Chat:
    two round trips on PostgreSQL, six pages fewer a send").
    """
    recipients = [sorted(set(publication.user_ids)) for publication in publications]
    counts = Counter(uid for users in recipients for uid in users)
    if not counts:
        return
    # Each event as (user, its place among the user's events here), the rows' values, and its push
    # without the seq: the seq is the user's new last seq - their count + the place.
    places: dict[int, int] = dict.fromkeys(counts, 0)
    events, rows = [], []
    ref_field, created_at_field = Event._meta.get_field("ref"), Event._meta.get_field("created_at")
    created_at = created_at_field.get_db_prep_save(timezone.now(), connection)
    for publication, users in zip(publications, recipients, strict=True):
        # The row's values as each field prepares them, once per publication, not per recipient.
        ref = ref_field.get_db_prep_save(publication.ref, connection)
        # Each distinct body is encoded once, whoever receives it: a recipient's frame differs
        # only by its seq, spliced in (a group's message is one encoding, not one per member).
        encoded: dict[int, tuple[Frame, str]] = {}
        head = '{"type":' + orjson.dumps(publication.event_type).decode() + ',"seq":'
        for uid in users:
            places[uid] += 1
            body = publication.frame(uid) if callable(publication.frame) else publication.frame
            if id(body) not in encoded:  # the body is kept in `encoded`, so its id is not reused meanwhile
                rest = orjson.dumps({k: v for k, v in body.items() if k not in ("type", "seq")}).decode()[1:]
                encoded[id(body)] = (body, rest if rest == "}" else "," + rest)
            events.append((uid, places[uid], head, encoded[id(body)][1]))
            rows.append((uid, places[uid], publication.event_type, ref, created_at))
    if connection.vendor == "postgresql":
        user_ids = sorted(counts)
        answer = asked(_APPEND_EVENTS, [user_ids, [counts[uid] for uid in user_ids], *columns(rows)])
        transaction.on_commit(partial(_push_numbered, events, counts, answer))
        return
    lasts = _seqs_reserve(counts)
    with connection.cursor() as cursor:
        cursor.executemany(
            _INSERT_EVENT, [(uid, lasts[uid] - counts[uid] + place, *rest) for uid, place, *rest in rows]
        )
    transaction.on_commit(partial(_push_numbered, events, counts, lambda: lasts.items()))


def _push_numbered(events: list, counts: dict[int, int], lasts: Callable[[], Iterable[tuple[int, int]]]) -> None:
    last = dict(lasts())
    pushes = []
    for uid, place, head, rest in events:
        seq = last[uid] - counts[uid] + place
        pushes.append((uid, {"type": "event.push", "text": f"{head}{seq}{rest}", "seq": seq}))
    _push(pushes)


# Event.objects.bulk_create as one prepared statement run per row (SQLite): on every message sent,
# building bulk_create's SQL (and an Event per recipient) cost more than the database's work
# (bench/RESULTS.md).
_EVENT_FIELDS = ("user_id", "seq", "type", "ref", "created_at")
_INSERT_EVENT = (
    f"INSERT INTO {Event._meta.db_table} ({', '.join(_EVENT_FIELDS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_EVENT_FIELDS))})"
)
# PostgreSQL: each user's counter raised by their count of events (a user without a stream row, made
# without the post_save signal, gets one: the upsert), then the events numbered from the counters'
# new values, in one statement of arrays; it answers each user's new last seq. The counters' rows
# are locked in the users' order until commit, so concurrent publishers to one user serialize and
# the numbers grow by exactly one per event.
_APPEND_EVENTS = (
    "WITH wanted AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS w(user_id, n)), "  # noqa: S608
    f"streams AS (INSERT INTO {UserStream._meta.db_table} AS s (user_id, last_seq) "
    "SELECT user_id, n FROM wanted ORDER BY user_id "
    "ON CONFLICT (user_id) DO UPDATE SET last_seq = s.last_seq + excluded.last_seq "
    "RETURNING s.user_id, s.last_seq), "
    f"appended AS (INSERT INTO {Event._meta.db_table} ({', '.join(_EVENT_FIELDS)}) "
    "SELECT e.user_id, streams.last_seq - wanted.n + e.place, e.type, e.ref, e.created_at "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar(40)[], %s::jsonb[], %s::timestamptz[]) "
    "AS e(user_id, place, type, ref, created_at) JOIN streams USING (user_id) JOIN wanted USING (user_id)) "
    "SELECT user_id, last_seq FROM streams"
)


def events_publish(*, user_ids: Iterable[int], event_type: str, ref: dict, frame: Frame | FrameFor) -> None:
    """Appends one event for each user and pushes `frame` (plus its seq) after commit.

    `ref` is what is stored: enough for the event type's renderer to rebuild the
    frame on replay. `frame` is the live rendering, the same for everyone or made
    per user id.
    """
    events_publish_many([Publication(user_ids, event_type, ref, frame)])


def _push(messages: list[tuple[int, dict]]) -> None:
    deferred = getattr(_deferred, "pushes", None)
    if deferred is not None:
        deferred.extend(messages)
    else:
        _send_or_report(messages)


_deferred = threading.local()


@contextlib.contextmanager
def pushes_deferred():
    """Within it, this thread's pushes (after commit, as always) are collected into the list it
    yields instead of sent: a caller that will be back in the event loop sends them from there
    with `push_now`, without a hop from this thread into the loop and back for each commit."""
    collected: list[tuple[int, dict]] = []
    outer = getattr(_deferred, "pushes", None)
    _deferred.pushes = collected
    try:
        yield collected
    finally:
        _deferred.pushes = outer


async def push_now(messages: list[tuple[int, dict]]) -> None:
    """Pushes from the event loop; a layer that cannot be reached loses the push (reported, the
    sockets then resume), never the stored event or the caller's answer. `_send_or_report` from a thread."""
    if not messages:
        return
    try:
        await _group_send_all(messages)
    except LAYER_ERRORS as error:
        logger.warning("Channel layer push of %d events failed (%s); clients get them by resume", len(messages), error)
        report_failure()


def _send_or_report(messages: list[tuple[int, dict]]) -> None:
    """Pushes; a layer that cannot be reached loses the push, never the stored event or the caller's answer.

    The layer watch (realtime.layer_watch) then has the sockets reconnect and resume.
    """
    async_to_sync(push_now)(messages)


async def _group_send_all(messages: list[tuple[int, dict]]) -> None:
    # One hop into the event loop per commit, not one per recipient. Each user's pushes go in
    # order (their seqs); different users' at once.
    layer = get_channel_layer()
    if hasattr(layer, "group_send_many"):  # Redis pub/sub: the whole batch in one round trip, in order
        await layer.group_send_many([(user_group(uid), message) for uid, message in messages])
        return
    by_user: dict[int, list[dict]] = {}
    for uid, message in messages:
        by_user.setdefault(uid, []).append(message)

    async def in_order(uid: int, pushes: list[dict]) -> None:
        for message in pushes:
            await layer.group_send(user_group(uid), message)

    if len(by_user) == 1:
        [(uid, pushes)] = by_user.items()
        await in_order(uid, pushes)
    else:
        await asyncio.gather(*(in_order(uid, pushes) for uid, pushes in by_user.items()))


def ephemeral_send(*, user_ids: Iterable[int], frame: Frame) -> None:
    """Pushes a frame that is not stored and carries no seq (typing, presence)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    _send_or_report([(uid, message) for uid in set(user_ids)])


def broadcast_send(*, channel_id: int, frame: Frame) -> None:
    """Pushes a frame, stored nowhere and with no seq, to the open sockets of a channel's subscribers,
    after commit. One group_send, whatever the number of subscribers: a socket that misses it finds
    the broadcast in its conversation list (the read marker says what is unread)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    transaction.on_commit(partial(_send_to_group, broadcast_group(channel_id), message))


def _send_to_group(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except LAYER_ERRORS as error:
        logger.warning("Channel layer push to %s failed (%s)", group, error)
        report_failure()


def subscriptions_changed(*, user_id: int, join: list[int] = (), leave: list[int] = ()) -> None:
    """After commit, has every open socket of the user join or leave the broadcast groups of these
    channels (the consumer's `broadcast_groups_change` handler), so a subscription made on one tab is live
    on all of them at once."""
    message = {
        "type": "broadcast.groups.change",
        "join": [broadcast_group(cid) for cid in join],
        "leave": [broadcast_group(cid) for cid in leave],
    }
    transaction.on_commit(partial(_send_or_report, [(user_id, message)]))


async def ephemeral_send_async(*, user_ids: Iterable[int], frame: Frame) -> None:
    """ephemeral_send for a caller already in the event loop (no hop through async_to_sync)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    await push_now([(uid, message) for uid in set(user_ids)])
