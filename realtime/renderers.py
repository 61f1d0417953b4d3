"""How each event type is rendered again on replay.

realtime knows nothing of chat or posts: the apps that publish an event type register
a renderer for it here. A renderer takes the events of one type, in seq order, and
the user who replays them, and returns one frame body per event (without `type` and
`seq`, which are added here). Renderers work on the whole batch so a replay costs a
few queries, not one per event.
"""

from collections.abc import Callable

from .models import Event

Renderer = Callable[[list[Event], object], list[dict]]

_renderers: dict[str, Renderer] = {}


def register(event_type: str, renderer: Renderer) -> None:
    _renderers[event_type] = renderer


def render(events: list[Event], viewer) -> list[dict]:
    """Frames for `events` (in seq order), each rendered as `viewer` may see it now."""
    by_type: dict[str, list[Event]] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event)
    bodies: dict[int, dict] = {}
    for event_type, group in by_type.items():
        renderer = _renderers.get(event_type, _stored_ref)
        for event, body in zip(group, renderer(group, viewer), strict=True):
            bodies[event.seq] = body
    return [{**bodies[event.seq], "type": event.type, "seq": event.seq} for event in events]


def _stored_ref(events: list[Event], viewer) -> list[dict]:
    return [dict(event.ref) for event in events]
