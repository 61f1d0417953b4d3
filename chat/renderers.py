"""Replay renderers for chat's event types: events hold ids, frames show rows as they are now.

A message is replayed as its reader may see it now (chat.visibility): one they no longer see
(they left the conversation, it came before their view starts, or a block hides its sender
in a group) replays as `{"message": null}`, as a deleted one does; a reply shows what it
answers only when the reader sees that too.
"""

from accounts.models import ContactRequest, User
from common.prepared import Prepared
from media.models import Media
from realtime import renderers

from .cards import article_cards, post_cards
from .models import Message
from .selectors import messages_with_media, voice_played_ids
from .serializers import ContactRequestSerializer, message_data
from .visibility import messages_seen_by, replies_seen

_MESSAGE_FIELDS = [field.attname for field in Message._meta.concrete_fields]
_SENDER_FIELDS = [field.attname for field in User._meta.concrete_fields]
# Ids go in one argument each, padded with 0 (no message has it) to one of these sizes: each prepared
# once. A replay after a blip or a restart holds a few messages; a page holds at most 100 (the consumer's).
_ID_COUNTS = (4, 20, 100)


# Asked by every socket that resumes (all of them at once after a restart): building this query
# was most of a replay's cost (about 3 ms of Python for 2 messages; bench/RESULTS.md, "Connect storm").
@Prepared
def _seen_with_sender(viewer_id: int, *ids: int):
    seen = messages_seen_by(User(pk=viewer_id)).filter(pk__in=ids)
    senders = [f"sender__{name}" for name in _SENDER_FIELDS]
    return seen.values_list(*_MESSAGE_FIELDS, *senders, "sender__avatar__key")


def _seen_messages(viewer, ids: list[int]) -> list[Message]:
    """messages_seen_by(viewer).filter(pk__in=ids).select_related("sender__avatar"), prepared: each
    message with its sender, and the sender's avatar as far as a summary reads it (its key)."""
    ids = list(dict.fromkeys(ids))
    messages = []
    for start in range(0, len(ids), _ID_COUNTS[-1]):
        chunk = ids[start : start + _ID_COUNTS[-1]]
        size = next(size for size in _ID_COUNTS if size >= len(chunk))
        for row in _seen_with_sender(viewer.pk, *chunk, *(0,) * (size - len(chunk))):
            message = Message.from_db(None, _MESSAGE_FIELDS, row[: len(_MESSAGE_FIELDS)])
            sender = User.from_db(None, _SENDER_FIELDS, row[len(_MESSAGE_FIELDS) : -1])
            if sender.avatar_id is not None:
                sender.avatar = Media.from_db(None, ["id", "key"], (sender.avatar_id, row[-1]))
            message.sender = sender
            messages.append(message)
    return messages


def _messages(events, viewer) -> list[dict]:
    ids = [event.ref["message"] for event in events]
    rows = messages_with_media(_seen_messages(viewer, ids))
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
