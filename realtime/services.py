"""Publishing events: number them per user, store them, push them after commit.

Services of chat and microblog call `events_publish` inside their transaction. The
seq numbers are assigned and the rows written in that transaction; the push goes
to the channel layer only once it commits, so nobody hears of a rolled-back row.
A push may still be dropped by a full channel: the client sees the jump in `seq`
and asks for `resume`, which reads the rows written here.
"""

from collections.abc import Callable, Iterable
from functools import partial

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from .groups import user_group
from .models import Event, UserStream

Frame = dict
FrameFor = Callable[[int], Frame]


def _next_seqs(user_ids: list[int]) -> dict[int, int]:
    """Adds one to each user's counter in one statement and returns the new values.

    The UPDATE takes each row's lock (PostgreSQL) or the database lock (SQLite
    IMMEDIATE) until commit, so concurrent publishers to one user serialize and the
    numbers grow by exactly one per event.
    """
    table = UserStream._meta.db_table
    placeholders = ", ".join(["%s"] * len(user_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1 WHERE user_id IN ({placeholders}) RETURNING user_id, last_seq",
            user_ids,
        )
        seqs = dict(cursor.fetchall())
    missing = [uid for uid in user_ids if uid not in seqs]
    if missing:
        # Users made without the post_save signal (bulk inserts): open their streams now.
        UserStream.objects.bulk_create([UserStream(user_id=uid) for uid in missing], ignore_conflicts=True)
        seqs.update(_next_seqs(missing))
    return seqs


def events_publish(*, user_ids: Iterable[int], event_type: str, ref: dict, frame: Frame | FrameFor) -> dict[int, int]:
    """Appends one event for each user and pushes `frame` (plus its seq) after commit.

    `ref` is what is stored: enough for the event type's renderer to rebuild the
    frame on replay. `frame` is the live rendering, the same for everyone or made
    per user id. Returns each user's new seq.
    """
    recipients = sorted(set(user_ids))
    if not recipients:
        return {}
    seqs = _next_seqs(recipients)
    Event.objects.bulk_create([Event(user_id=uid, seq=seqs[uid], type=event_type, ref=ref) for uid in recipients])
    frames = {
        uid: {**(frame(uid) if callable(frame) else frame), "type": event_type, "seq": seqs[uid]} for uid in recipients
    }
    transaction.on_commit(partial(_push, frames))
    return seqs


def _push(frames: dict[int, Frame]) -> None:
    messages = {
        uid: {"type": "event.push", "text": orjson.dumps(frame).decode(), "seq": frame["seq"]}
        for uid, frame in frames.items()
    }
    async_to_sync(_group_send_all)(messages)


async def _group_send_all(messages: dict[int, dict]) -> None:
    # One hop into the event loop per commit, not one per recipient.
    layer = get_channel_layer()
    for uid, message in messages.items():
        await layer.group_send(user_group(uid), message)


def ephemeral_send(*, user_ids: Iterable[int], frame: Frame) -> None:
    """Pushes a frame that is not stored and carries no seq (typing, presence)."""
    message = {"type": "event.push", "text": orjson.dumps(frame).decode()}
    async_to_sync(_group_send_all)({uid: message for uid in set(user_ids)})
