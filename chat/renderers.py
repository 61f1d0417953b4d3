"""Replay renderers for chat's event types: events hold ids, frames show rows as they are now."""

from accounts.models import ContactRequest
from realtime import renderers

from .cards import post_cards
from .models import Message
from .serializers import ContactRequestSerializer, message_data


def _messages(events, viewer) -> list[dict]:
    ids = [event.ref["message"] for event in events]
    found = {m.pk: m for m in Message.objects.filter(pk__in=ids).select_related("sender")}
    cards = post_cards(viewer, [m.shared_post_id for m in found.values()])
    return [
        {"message": message_data(found[i], cards.get(found[i].shared_post_id)) if i in found else None} for i in ids
    ]


def _requests(events, viewer) -> list[dict]:
    ids = [event.ref["request"] for event in events]
    found = {r.pk: r for r in ContactRequest.objects.filter(pk__in=ids).select_related("from_user", "to_user")}
    bodies = []
    for event, request_id in zip(events, ids, strict=True):
        body = {
            **event.ref,
            "request": ContactRequestSerializer(found[request_id]).data if request_id in found else None,
        }
        bodies.append(body)
    return bodies


def register() -> None:
    renderers.register("message.new", _messages)
    renderers.register("message.recalled", _messages)
    renderers.register("contact.request", _requests)
    renderers.register("contact.accepted", _requests)
