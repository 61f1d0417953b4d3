"""Reads of the event log: the user's current seq, and replay after a seq."""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from common.prepared import Prepared

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
    """What `resume {after}` answers: frames to send then `resume.done`, or `resync`."""

    last: int
    resync: bool


# Asked by every socket that connects and resumes: built once (common.prepared), one statement.
@Prepared
def _seq_and_oldest_kept(user_id: int):
    oldest = Event.objects.filter(user_id=OuterRef("user_id")).order_by("seq").values("seq")[:1]
    stream = UserStream.objects.filter(user_id=user_id).annotate(oldest=Subquery(oldest))
    return stream.values_list("last_seq", "oldest")


def replay_plan(*, user_id: int, after: int) -> Replay:
    """Whether `after` can be replayed: every event after it must still be kept."""
    rows = _seq_and_oldest_kept(user_id)
    current, oldest_kept = rows[0] if rows else (0, None)
    if after >= current:
        return Replay(last=current, resync=after > current)
    return Replay(last=current, resync=oldest_kept is None or oldest_kept > after + 1)


# Every resume reads a page: built once (common.prepared) per page size, which the SQL holds as its LIMIT.
# Building the queryset cost about as much as the rest of a short replay (bench/RESULTS.md, "Connect storm").
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
    key = (viewer.pk, after, up_to, limit)
    now = time.monotonic()
    with _shared_lock:
        kept = _shared.get(key)
        if kept is not None and now - kept[0] < PAGE_SHARED_SECONDS:
            return kept[1]
    events = [
        Event(user_id=viewer.pk, seq=seq, type=kind, ref=ref)
        for seq, kind, ref in _page_query(limit)(viewer.pk, after, up_to)
    ]
    frames = render(events, viewer)
    with _shared_lock:
        _shared[key] = (now, frames)
        _shared.move_to_end(key)
        while len(_shared) > PAGES_KEPT:
            _shared.popitem(last=False)
    return frames


def replay_start(*, viewer, after: int, limit: int = REPLAY_BATCH) -> tuple[Replay, list[dict]]:
    """replay_plan, and when there is something to replay, its first page (replay_batch up to the
    plan's last seq): a short resume, the common one, costs one hop into the database thread, not two."""
    plan = replay_plan(user_id=viewer.pk, after=after)
    if plan.resync or after >= plan.last:
        return plan, []
    return plan, replay_batch(viewer=viewer, after=after, up_to=plan.last, limit=limit)
