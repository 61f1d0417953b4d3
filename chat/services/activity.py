"""Read marks and typing: who hears that someone read or is typing.

The same members who would see their messages (chat.visibility): in a group, nobody hidden
from them by a block; in a direct conversation, nobody once the two may no longer talk
(chat.services.reach), the rule that refuses their messages.
"""

from django.db import transaction

from accounts.models import User
from accounts.selectors import people_hidden_from
from realtime.services import ephemeral_send, events_publish

from ..models import Conversation, Membership
from ..selectors import messages_seen_by
from .checks import ChatError
from .reach import direct_refused


@transaction.atomic
def conversation_read(*, user: User, conversation: Conversation, up_to) -> int:
    """Marks the messages `user` sees up to `up_to` read; tells the other members. Never moves backwards."""
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise ChatError("invalid", "up_to must be a message id.")
    seen = messages_seen_by(user).filter(conversation=conversation, id__lte=up_to)
    newest = seen.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        raise ChatError("invalid", "up_to must be a message of this conversation.")
    moved = Membership.objects.filter(conversation=conversation, user=user, last_read_message_id__lt=newest).update(
        last_read_message_id=newest
    )
    others = _told_of_activity(user, conversation) if moved else []
    if others:
        body = {"conversation": conversation.pk, "user": user.username, "up_to": newest}
        events_publish(user_ids=others, event_type="read", ref=body, frame=body)
    return newest


def _told_of_activity(user: User, conversation: Conversation) -> list[int]:
    if conversation.kind == Conversation.Kind.CHANNEL:
        # A subscriber's reading or typing concerns nobody else (and there may be a million others).
        return []
    others = Membership.objects.filter(conversation=conversation).exclude(user=user)
    if conversation.kind == Conversation.Kind.GROUP:
        return list(others.exclude(user_id__in=people_hidden_from([user.pk])).values_list("user_id", flat=True))
    other_ids = list(others.values_list("user_id", flat=True))
    # A subscriber's private conversation with a channel needs no contacts (chat.services.messages).
    if other_ids and conversation.channel_id is None and direct_refused(user, other_ids[0]):
        return []
    return other_ids


def typing_send(*, user: User, conversation: Conversation) -> None:
    if conversation.kind == Conversation.Kind.CHANNEL:
        raise ChatError("read_only", "A channel's conversation is read-only.", 403)
    others = _told_of_activity(user, conversation)
    if conversation.kind == Conversation.Kind.DIRECT and not others:
        raise ChatError("not_contacts", "You can only message your contacts.", 403)
    ephemeral_send(user_ids=others, frame={"type": "typing", "conversation": conversation.pk, "user": user.username})
