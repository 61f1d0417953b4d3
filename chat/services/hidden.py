"""Delete for me: a message gone for one reader only (chat.visibility.messages_seen_by leaves it out).

REST (POST /api/messages/{id}/hide/) calls `message_hide`; the reader's other tabs hear of it
(`message.hidden`, to their own sockets only): the other members see no change.
"""

from django.db import transaction

from accounts.models import User
from realtime.services import events_publish

from ..models import MessageHidden
from ..selectors import is_id, message_for_member
from .checks import NotFound


@transaction.atomic
def message_hide(*, actor: User, message_id) -> None:
    """Hides the message `message_id` from `actor`: any message they see, theirs or another's,
    recalled or not. Idempotent: hiding it again changes nothing and tells nobody. A message they
    do not see (and never hid) raises NotFound, as a missing one does."""
    message = message_for_member(user=actor, message_id=message_id)
    if message is None:
        if _already_hidden(actor, message_id):
            return
        raise NotFound()
    _, created = MessageHidden.objects.get_or_create(user=actor, message=message)
    if created:
        body = {"conversation": message.conversation_id, "message": message.pk}
        events_publish(user_ids=[actor.pk], event_type="message.hidden", ref=body, frame=body)


def _already_hidden(actor: User, message_id) -> bool:
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        return False
    return is_id(message_id) and MessageHidden.objects.filter(user=actor, message_id=message_id).exists()
