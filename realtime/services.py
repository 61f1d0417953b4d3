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

from common.pipelined import as_arrays, asked, write_rows

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


@dataclass
class ReservedSeqs:
    """Seqs asked for (`seqs_reserve_asked`) before the events that will take them are made."""

    counts: dict[int, int]
    read: Callable[[], dict[int, int]]


def seqs_reserve_asked(counts: dict[int, int]) -> ReservedSeqs:
    """Adds `counts[user]` to each user's counter in one statement; `read()` gives each new last seq.

    The UPDATE takes each row's lock (PostgreSQL) or the database lock (SQLite
    IMMEDIATE) until commit, so concurrent publishers to one user serialize and the
    numbers grow by exactly one per event. Asked rather than read at once: inside `pipelined`
    it goes out with the statements before it that are read (chat's send: with its INSERT).
    """
    table = UserStream._meta.db_table
    user_ids = sorted(counts)
    if as_arrays(user_ids):  # two arrays, whatever the number of users
        answer = asked(
            f"UPDATE {table} SET last_seq = last_seq + v.n FROM unnest(%s::bigint[], %s::bigint[]) "  # noqa: S608
            "AS v(u, n) WHERE user_id = v.u RETURNING user_id, last_seq",
            [user_ids, [counts[uid] for uid in user_ids]],
        )
    else:
        cases = " ".join(["WHEN %s THEN %s"] * len(user_ids))
        placeholders = ", ".join(["%s"] * len(user_ids))
        answer = asked(
            # The table name is the model's; every value goes through placeholders.
            f"UPDATE {table} SET last_seq = last_seq + (CASE user_id {cases} END) "  # noqa: S608
            f"WHERE user_id IN ({placeholders}) RETURNING user_id, last_seq",
            [value for uid in user_ids for value in (uid, counts[uid])] + user_ids,
        )

    def read() -> dict[int, int]:
        lasts = dict(answer())
        missing = {uid: n for uid, n in counts.items() if uid not in lasts}
        if missing:
            # Users made without the post_save signal (bulk inserts): open their streams now.
            UserStream.objects.bulk_create([UserStream(user_id=uid) for uid in missing], ignore_conflicts=True)
            lasts.update(seqs_reserve_asked(missing).read())
        return lasts

    return ReservedSeqs(counts, read)


def events_publish_many(publications: list[Publication], reserved: ReservedSeqs | None = None) -> list[dict[int, int]]:
    """Appends every publication's events, numbered in list order per user, in a few statements.

    Pushes go out after commit, in one hop into the event loop (or, inside `pushes_deferred`,
    handed to the caller already in the loop). Returns, per publication, each recipient's seq.
    `reserved`: the seqs, asked earlier in the transaction for exactly these recipients.
    """
    recipients = [sorted(set(publication.user_ids)) for publication in publications]
    counts = Counter(uid for users in recipients for uid in users)
    if reserved is not None and reserved.counts != counts:
        # A numbering with holes or clashes: refused, and the transaction with it.
        raise ValueError("The seqs reserved were for other recipients than the events'.")
    if not counts:
        return [{} for _ in publications]
    lasts = (reserved or seqs_reserve_asked(counts)).read()
    next_seq = {uid: lasts[uid] - count + 1 for uid, count in counts.items()}
    rows, pushes, numbering = [], [], []
    ref_field, created_at_field = Event._meta.get_field("ref"), Event._meta.get_field("created_at")
    created_at = created_at_field.get_db_prep_save(timezone.now(), connection)
    for publication, users in zip(publications, recipients, strict=True):
        seqs = {}
        # The row's values as each field prepares them, once per publication, not per recipient.
        ref = ref_field.get_db_prep_save(publication.ref, connection)
        # Each distinct body is encoded once, whoever receives it: a recipient's frame differs
        # only by its seq, spliced in front (a group's message is one encoding, not one per member).
        encoded: dict[int, tuple[Frame, str]] = {}
        head = '{"type":' + orjson.dumps(publication.event_type).decode() + ',"seq":'
        for uid in users:
            seqs[uid] = next_seq[uid]
            next_seq[uid] += 1
            rows.append((uid, seqs[uid], publication.event_type, ref, created_at))
            body = publication.frame(uid) if callable(publication.frame) else publication.frame
            if id(body) not in encoded:  # the body is kept in `encoded`, so its id is not reused meanwhile
                rest = orjson.dumps({k: v for k, v in body.items() if k not in ("type", "seq")}).decode()[1:]
                encoded[id(body)] = (body, rest if rest == "}" else "," + rest)
            text = f"{head}{seqs[uid]}{encoded[id(body)][1]}"
            pushes.append((uid, {"type": "event.push", "text": text, "seq": seqs[uid]}))
        numbering.append(seqs)
    with connection.cursor() as cursor:  # many rows: one statement of five arrays, not one a row to parse
        write_rows(cursor, rows, per_row=_INSERT_EVENT, as_columns=_INSERT_EVENTS_UNNEST)
    transaction.on_commit(partial(_push, pushes))
    return numbering


# Event.objects.bulk_create as one prepared statement run per row: on every message sent, building
# bulk_create's SQL (and an Event per recipient) cost more than the database's work (bench/RESULTS.md).
_EVENT_FIELDS = ("user_id", "seq", "type", "ref", "created_at")
_INSERT_EVENT = (
    f"INSERT INTO {Event._meta.db_table} ({', '.join(_EVENT_FIELDS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_EVENT_FIELDS))})"
)
_INSERT_EVENTS_UNNEST = (
    f"INSERT INTO {Event._meta.db_table} ({', '.join(_EVENT_FIELDS)}) "  # noqa: S608
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar(40)[], %s::jsonb[], %s::timestamptz[])"
)


def events_publish(*, user_ids: Iterable[int], event_type: str, ref: dict, frame: Frame | FrameFor) -> dict[int, int]:
    """Appends one event for each user and pushes `frame` (plus its seq) after commit.

    `ref` is what is stored: enough for the event type's renderer to rebuild the
    frame on replay. `frame` is the live rendering, the same for everyone or made
    per user id. Returns each user's new seq.
    """
    return events_publish_many([Publication(user_ids, event_type, ref, frame)])[0]


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
