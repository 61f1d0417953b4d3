"""Which messages a member sees: one rule, `messages_seen_by` (SQL), with its one-reader
Python mirror `sees_message` for the paths that have the rows in hand (the send path, live
card pushes). tests/chat/test_history_view.py and test_group_blocks.py guard both.

- Only after their membership's view starts (Membership.visible_after_message_id): nothing
  from before they joined, nor from before they were added again.
- In a group, nothing from someone hidden from them by a block, either way. The group stays
  and both stay members (as in WeChat, where blocking someone does not take them out of your
  groups), but neither sees the other's messages there: not in history, pushes, unread
  counts, the list's last message, replays, reply previews or shared cards. A block cuts both
  ways in Tandem, so this does too. Lifting the block shows them again.

- Nothing they deleted for themselves ("delete for me", MessageHidden): their own act, so
  the others still see it. `sees_message` does not know of these (the send path meets only new
  messages; a reply to a message the sender hid is not refused).

Direct conversations keep their history through a block; new messages are refused there
(chat.services.reach).
"""

from django.db.models import F, Q, QuerySet

from accounts.models import User
from accounts.selectors import people_hidden_from
from common.prepared import Prepared
from media import access

from .models import Conversation, Membership, Message, MessageHidden


def _hidden_in_groups(user_id: int) -> Q:
    """Messages of a group that `user_id` does not see because of a block (for Message queries)."""
    return Q(conversation__kind=Conversation.Kind.GROUP, sender_id__in=people_hidden_from([user_id]))


def messages_seen_by(user: User) -> QuerySet[Message]:
    """Every message `user` sees, in any conversation: the rule in the module docstring."""
    return (
        Message.objects.filter(
            # One filter() call, so both conditions name the same membership row: the viewer's.
            conversation__memberships__user=user,
            id__gt=F("conversation__memberships__visible_after_message_id"),
        )
        .exclude(_hidden_in_groups(user.pk))
        .exclude(pk__in=MessageHidden.objects.filter(user=user).values("message_id"))
    )


def sees_message(
    *, view_after: int, message_id: int, reader_id: int, sender_id: int, group: bool, hidden: set[frozenset[int]]
) -> bool:
    """`messages_seen_by` for one reader whose membership is known: `view_after` is its
    visible_after_message_id, `hidden` the blocked pairs (accounts.selectors.blocked_pairs_among)."""
    if message_id <= view_after:
        return False
    return not (group and reader_id != sender_id and frozenset((reader_id, sender_id)) in hidden)


def readers_of(message: Message) -> list[int]:
    """The members who see `message` now: messages_seen_by, asked the other way round. One query,
    whether or not the caller loaded the message's conversation (its kind is read in the query)."""
    readers = Membership.objects.filter(
        conversation_id=message.conversation_id, visible_after_message_id__lt=message.pk
    ).exclude(conversation__kind=Conversation.Kind.GROUP, user_id__in=people_hidden_from([message.sender_id]))
    readers = readers.exclude(user_id__in=MessageHidden.objects.filter(message_id=message.pk).values("user_id"))
    return list(readers.values_list("user_id", flat=True))


def replies_seen(user: User, messages) -> set[int]:
    """Of the messages these reply to, the ids `user` sees: a reply to anything else shows no preview."""
    targets = {message.reply_to_id for message in messages if message.reply_to_id is not None}
    if not targets:
        return set()
    return set(messages_seen_by(user).filter(pk__in=targets).values_list("pk", flat=True))


# One message's photo checked (media.views, for each fetch): the same query as below, built once.
@Prepared
def _message_seen(viewer_id: int, message_id: int):
    seen = messages_seen_by(User(pk=viewer_id)).filter(pk=message_id, recalled_at__isnull=True)
    return seen.values_list("pk", flat=True)


def _messages_visible(viewer, ids: list[int]) -> set[int]:
    if viewer is None:
        return set()
    if len(ids) == 1:
        return set(_message_seen(viewer.pk, ids[0]))
    seen = messages_seen_by(viewer).filter(pk__in=ids, recalled_at__isnull=True)
    return set(seen.values_list("pk", flat=True))


# A message's photos: the members who see the message (messages_seen_by), never once recalled; never public.
media_audience = access.Audience(visible=_messages_visible, public=lambda ids: set())
