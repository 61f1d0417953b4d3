"""Publishing events: number them per user, store them, push them after commit.

Services of chat and microblog call `events_publish` inside their transaction. The
seq numbers are assigned and the rows written in that transaction; the push goes
to the channel layer only once it commits, so nobody hears of a rolled-back row.
A push may still be dropped by a full channel: the client sees the jump in `seq`
and asks for `resume`, which reads the rows written here.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from .groups import user_group
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


def _reserve_seqs(counts: dict[int, int]) -> dict[int, int]:
    """Adds `counts[user]` to each user's counter in one statement; returns each new last seq.

    The UPDATE takes each row's lock (PostgreSQL) or the database lock (SQLite
    IMMEDIATE) until commit, so concurrent publishers to one user serialize and the
    numbers grow by exactly one per event.
    """
    table = UserStream._meta.db_table
    user_ids = sorted(counts)
    cases = " ".join(["WHEN %s THEN %s"] * len(user_ids))
    placeholders = ", ".join(["%s"] * len(user_ids))
    params = [value for uid in user_ids for value in (uid, counts[uid])] + user_ids
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name is the model's; every value goes through placeholders.
            f"UPDATE {table} SET last_seq = last_seq + (CASE user_id {cases} END) "  # noqa: S608
            f"WHERE user_id IN ({placeholders}) RETURNING user_id, last_seq",
            params,
        )
        lasts = dict(cursor.fetchall())
    missing = {uid: n for uid, n in counts.items() if uid not in lasts}
    if missing:
        # Users made without the post_save signal (bulk inserts): open their streams now.
        UserStream.objects.bulk_create([UserStream(user_id=uid) for uid in missing], ignore_conflicts=True)
        lasts.update(_reserve_seqs(missing))
    return lasts


def events_publish_many(publications: list[Publication]) -> list[dict[int, int]]:
    """Appends every publication's events, numbered in list order per user, in a few statements.

    Pushes go out after commit, in one hop into the event loop. Returns, per
    publication, each recipient's seq.
    """
    recipients = [sorted(set(publication.user_ids)) for publication in publications]
    counts = Counter(uid for users in recipients for uid in users)
    if not counts:
        return [{} for _ in publications]
    lasts = _reserve_seqs(counts)
    next_seq = {uid: lasts[uid] - count + 1 for uid, count in counts.items()}
    events, pushes, numbering = [], [], []
    for publication, users in zip(publications, recipients, strict=True):
        seqs = {}
        for uid in users:
            seqs[uid] = next_seq[uid]
            next_seq[uid] += 1
            events.append(Event(user_id=uid, seq=seqs[uid], type=publication.event_type, ref=publication.ref))
            body = publication.frame(uid) if callable(publication.frame) else publication.frame
            pushes.append((uid, {**body, "type": publication.event_type, "seq": seqs[uid]}))
        numbering.append(seqs)
    Event.objects.bulk_create(events)
    transaction.on_commit(partial(_push, pushes))
    return numbering


def events_publish(*, user_ids: Iterable[int], event_type: str, ref: dict, frame: Frame | FrameFor) -> dict[int, int]:
    """Appends one event for each user and pushes `frame` (plus its seq) after commit.

    `ref` is what is stored: enough for the event type's renderer to rebuild the
    frame on replay. `frame` is the live rendering, the same for everyone or made
    per user id. Returns each user's new seq.
    """
    return events_publish_many([Publication(user_ids, event_type, ref, frame)])[0]


def _push(pushes: list[tuple[int, Frame]]) -> None:
    messages = [
        (uid, {"type": "event.push", "text": orjson.dumps(frame).decode(), "seq": frame["seq"]})
        for uid, frame in pushes
    ]
    _send_or_report(messages)


def _send_or_report(messages: list[tuple[int, dict]]) -> None:
    """Pushes; a layer that cannot be reached loses the push, never the stored event or the caller's answer.

    The layer watch (realtime.layer_watch) then has the sockets reconnect and resume.
    """
    try:
        async_to_sync(_group_send_all)(messages)
    except LAYER_ERRORS as error:
        logger.warning("Channel layer push of %d events failed (%s); clients get them by resume", len(messages), error)
        report_failure()


async def _group_send_all(messages: list[tuple[int, dict]]) -> None:
    # One hop into the event loop per commit, not one per recipient.
    layer = get_channel_layer()
    for uid, message in messages:
        await layer.group_send(user_group(uid), message)


def ephemeral_send(*, user_ids: Iterable[int], frame: Frame) -> None:
    """Pushes a frame that is not stored and carries no seq (typing, presence)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    _send_or_report([(uid, message) for uid in set(user_ids)])


async def ephemeral_send_async(*, user_ids: Iterable[int], frame: Frame) -> None:
    """ephemeral_send for a caller already in the event loop (no hop through async_to_sync)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    try:
        await _group_send_all([(uid, message) for uid in set(user_ids)])
    except LAYER_ERRORS as error:
        logger.warning("Channel layer push of a %s frame failed (%s)", frame.get("type"), error)
        report_failure()
