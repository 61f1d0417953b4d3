"""Reads of the event log: the user's current seq, and replay after a seq."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import connections, router

from common.prepared import Prepared
from common.store_epoch import store_epoch

from .models import Event, UserStream
from .renderers import render

REPLAY_BATCH = 500
# A page rendered for one socket of a user also serves the user's other sockets that ask for the
# same page (same `after`, and the user's seq unchanged since: see replay_batch) within this many
# seconds. After a restart all of a user's sockets resume at once, from the same seq.
PAGE_SHARED_SECONDS = 1.0
PAGES_KEPT = 2048


def last_seq(user_id: int) -> int:
    return UserStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0


@dataclass
class Replay:
    """What `resume {after}` answers: frames to send then `resume.done`, or `resync`; either with
    the store's epoch (common.store_epoch), read on the connection that read the plan."""

    last: int
    resync: bool
    epoch: str


# Every resume asks for its plan and, when there is something to replay, its first page: one
# statement for both, a statement's Python fewer per resume than the two it was (about 0.06 ms of
# CPU on PostgreSQL, though no faster there: it plans the join for longer; bench/RESULTS.md,
# "Connect storm: fifth pass"). Each row carries the stream's last seq and its
# oldest kept event, then one event of the page: the LEFT JOIN keeps that one row, event-less, when
# nothing comes after `after`. The oldest seq's subquery does not depend on the row, so it is run
# once. Written as SQL: the ORM cannot join the stream to its events (no relation between them).
_EVENTS, _STREAMS = Event._meta.db_table, UserStream._meta.db_table
_PLAN_AND_PAGE = (
    # The table names are the models'; every value goes through placeholders.
    f"SELECT s.last_seq, (SELECT MIN(k.seq) FROM {_EVENTS} k WHERE k.user_id = %s), e.seq, e.type, e.ref "  # noqa: S608
    f"FROM {_STREAMS} s LEFT JOIN {_EVENTS} e ON e.user_id = s.user_id AND e.seq > %s AND e.seq <= s.last_seq "
    "WHERE s.user_id = %s ORDER BY e.seq LIMIT %s"
)
_ref_field = Event._meta.get_field("ref")


def _plan_and_page(user_id: int, after: int, limit: int) -> tuple[Replay, list[tuple[int, str, dict]]]:
    """The plan for `resume {after}`, and the first `limit` events after `after` (seq, type, ref)
    when it replays (none when it resyncs, or nothing is missed)."""
    connection = connections[router.db_for_read(Event)]
    with connection.cursor() as cursor:
        cursor.execute(_PLAN_AND_PAGE, [user_id, after, user_id, limit])
        rows = cursor.fetchall()
    epoch = store_epoch(connection.alias)
    current, oldest_kept = (rows[0][0], rows[0][1]) if rows else (0, None)
    if after >= current:
        return Replay(last=current, resync=after > current, epoch=epoch), []
    if oldest_kept is None or oldest_kept > after + 1:  # an event after `after` is no longer kept
        return Replay(last=current, resync=True, epoch=epoch), []
    # `if seq`: the event-less row, when nothing is kept between `after` and the last seq (a gap the
    # plan does not look for; the old page query then read no rows).
    page = [(seq, kind, _ref_field.from_db_value(ref, None, connection)) for _, _, seq, kind, ref in rows if seq]
    return Replay(last=current, resync=False, epoch=epoch), page


def replay_plan(*, user_id: int, after: int) -> Replay:
    """Whether `after` can be replayed: every event after it must still be kept."""
    return _plan_and_page(user_id, after, 1)[0]


# Every replay page after the first is read alone: built once (common.prepared) per page size, which
# the SQL holds as its LIMIT. Building the queryset cost about as much as the rest of a short replay
# (bench/RESULTS.md, "Connect storm").
_pages: dict[int, Prepared] = {}


def _page_query(limit: int) -> Prepared:
    if limit not in _pages:

        @Prepared
        def page(user_id: int, after: int, up_to: int):
            events = Event.objects.filter(user_id=user_id, seq__gt=after, seq__lte=up_to).order_by("seq")
            return events.values_list("seq", "type", "ref")[:limit]

        _pages[limit] = page
    return _pages[limit]


_shared: OrderedDict[tuple, tuple[float, list[dict]]] = OrderedDict()
_shared_lock = threading.Lock()


def replay_batch(*, viewer, after: int, up_to: int, limit: int = REPLAY_BATCH) -> list[dict]:
    """The next frames after `after` (at most `limit`, none past `up_to`), rendered now.

    `up_to` is the user's seq when the replay began. Another socket of the user asking for the
    same page within PAGE_SHARED_SECONDS gets the same frames (read-only: they are only encoded):
    a change the user must see comes with an event, which moves their seq and so `up_to`, and a
    replay that began before it goes on to that event.
    """
    return _rendered(viewer, (after, up_to, limit), lambda: _page_query(limit)(viewer.pk, after, up_to))


def _rendered(viewer, page: tuple[int, int, int], read: Callable[[], list]) -> list[dict]:
    """The frames of `page` (after, up_to, limit), shared as replay_batch says, else `read()` and rendered."""
    key = (viewer.pk, *page)
    now = time.monotonic()
    with _shared_lock:
        kept = _shared.get(key)
        if kept is not None and now - kept[0] < PAGE_SHARED_SECONDS:
            return kept[1]
    events = [Event(user_id=viewer.pk, seq=seq, type=kind, ref=ref) for seq, kind, ref in read()]
    frames = render(events, viewer)
    with _shared_lock:
        _shared[key] = (now, frames)
        _shared.move_to_end(key)
        while len(_shared) > PAGES_KEPT:
            _shared.popitem(last=False)
    return frames


def replay_start(
    *, viewer, after: int, epoch: str | None = None, limit: int = REPLAY_BATCH
) -> tuple[Replay, list[dict]]:
    """replay_plan, and when there is something to replay, its first page (replay_batch up to the
    plan's last seq): a short resume, the common one, costs one hop into the database thread and
    one statement (plus its messages' own), not two of each. A client's `epoch` other than the
    store's resyncs: its `after` may name events that were lost and numbered again."""
    plan, page = _plan_and_page(viewer.pk, after, limit)
    if epoch is not None and epoch != plan.epoch:
        return replace(plan, resync=True), []
    if plan.resync or after >= plan.last:
        return plan, []
    return plan, _rendered(viewer, (after, plan.last, limit), lambda: page)
