"""Replay renderers for chat's event types: events hold ids, frames show rows as they are now.

A message is replayed as its reader may see it now (chat.visibility): one they no longer see
(they left the conversation, it came before their view starts, or a block hides its sender
in a group) replays as `{"message": null}`, as a deleted one does; a reply shows what it
answers only when the reader sees that too.
"""

from accounts.models import ContactRequest
from realtime import renderers

from .cards import article_cards, post_cards
from .models import Message
from .selectors import messages_with_media, voice_played_ids
from .serializers import ContactRequestSerializer, message_data
from .visibility import messages_seen_by, replies_seen


def _messages(events, viewer) -> list[dict]:
    ids = [event.ref["message"] for event in events]
    rows = messages_with_media(messages_seen_by(viewer).filter(pk__in=ids).select_related("sender__avatar"))
    found = {m.pk: m for m in rows}
    cards = post_cards(viewer, [m.shared_post_id for m in found.values()])
    replies = replies_seen(viewer, found.values())
    played = voice_played_ids(viewer, found.values())
    articles = article_cards(viewer, [m.shared_article_id for m in found.values()])
    return [{"message": _shown(found[i], cards, replies, played, articles) if i in found else None} for i in ids]


def _shown(message: Message, cards: dict, replies: set[int], played: set[int], articles: dict) -> dict:
    return message_data(
        message,
        cards.get(message.shared_post_id),
        reply_seen=message.reply_to_id in replies,
        played=message.pk in played,
        article_card=articles.get(message.shared_article_id),
    )


def _requests(events, viewer) -> list[dict]:
    ids = [event.ref["request"] for event in events]
    requests = ContactRequest.objects.filter(pk__in=ids).select_related("from_user__avatar", "to_user__avatar")
    found = {r.pk: r for r in requests}
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
