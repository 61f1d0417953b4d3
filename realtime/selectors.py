"""Reads of the event log: the user's current seq, and replay after a seq."""

from dataclasses import dataclass

from .models import Event, UserStream
from .renderers import render

REPLAY_BATCH = 500


def last_seq(user_id: int) -> int:
    return UserStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0


@dataclass
class Replay:
    """What `resume {after}` answers: frames to send then `resume.done`, or `resync`."""

    last: int
    resync: bool


def replay_plan(*, user_id: int, after: int) -> Replay:
    """Whether `after` can be replayed: every event after it must still be kept."""
    current = last_seq(user_id)
    if after >= current:
        return Replay(last=current, resync=after > current)
    oldest_kept = Event.objects.filter(user_id=user_id).order_by("seq").values_list("seq", flat=True).first()
    return Replay(last=current, resync=oldest_kept is None or oldest_kept > after + 1)


def replay_batch(*, viewer, after: int, up_to: int, limit: int = REPLAY_BATCH) -> list[dict]:
    """The next frames after `after` (at most `limit`, none past `up_to`), rendered now."""
    events = list(Event.objects.filter(user_id=viewer.pk, seq__gt=after, seq__lte=up_to).order_by("seq")[:limit])
    return render(events, viewer)
