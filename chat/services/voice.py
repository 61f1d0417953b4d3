"""Voice messages played: the listener's own state, as WeChat's red dot shows it until the clip is played.

REST (POST /api/messages/{id}/played/) and the chat page call `voice_played`; the listener's other
tabs hear of it (`message.played`, to their own sockets only: nobody else learns who listened).
"""

from django.db import transaction

from accounts.models import User
from realtime.services import events_publish

from ..models import Message, VoicePlay
from ..selectors import is_voice, message_for_member, messages_with_media
from .checks import ChatError, NotFound


@transaction.atomic
def voice_played(*, user: User, message_id) -> Message:
    """Marks the voice message `message_id` played by `user`; answers the message.

    Idempotent: played again changes nothing and tells nobody again. The sender's own voice
    message is never unplayed to them, so marking it stores nothing. A message `user` does
    not see answers NotFound, as a missing one; one without a voice clip (a recalled voice
    message among them: its clip is served to no one) is refused with `not_voice`.
    """
    message = message_for_member(user=user, message_id=message_id)
    if message is None:
        raise NotFound()
    messages_with_media([message])
    if not is_voice(message):
        raise ChatError("not_voice", "Only a voice message can be played.")
    if message.sender_id == user.pk:
        return message
    _, created = VoicePlay.objects.get_or_create(user=user, message=message)
    if created:
        body = {"conversation": message.conversation_id, "message": message.pk}
        events_publish(user_ids=[user.pk], event_type="message.played", ref=body, frame=body)
    return message
