"""Reads for chat. Every lookup of a conversation is scoped to membership in one query,
so a conversation that is not yours and one that does not exist take the same path, and
every read of messages goes through chat.visibility's rule of which messages a member sees.
"""

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from media.models import Media
from media.selectors import media_for

from .cards import post_cards
from .models import Conversation, Membership, Message, VoicePlay
from .visibility import messages_seen_by, replies_seen

MESSAGE_PAGE = 50
MAX_MESSAGE_PAGE = 200


# Ids are bigints: a larger number names nothing, and a database asked about it raises.
MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def conversation_for_member(*, user: User, conversation_id) -> Conversation | None:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        return None
    if not is_id(conversation_id):
        return None
    return Conversation.objects.filter(pk=conversation_id, memberships__user=user).first()


def member_ids(conversation: Conversation) -> list[int]:
    if conversation.kind == Conversation.Kind.CHANNEL:
        return []  # subscribers are never told of one another
    return list(Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True))


def conversations_for(user: User) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, with what the list shows.

    `unread_count`, `last_seen_id` (the last message the user sees) and the order follow
    messages_seen_by: a message the user does not see (from someone hidden from them, or from
    before they joined) neither shows nor moves the conversation up. One with nothing seen yet
    ranks by when the user joined it. Pass the rows through `with_last_messages` before
    presenting them.
    """
    mine = Membership.objects.filter(conversation=OuterRef("pk"), user=user)
    seen = messages_seen_by(user).filter(conversation=OuterRef("pk"))
    unread = (
        seen.filter(id__gt=OuterRef("my_last_read"))
        .exclude(sender=user)
        .order_by()
        .values("conversation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Conversation.objects.filter(memberships__user=user)
        .select_related("channel__account__avatar")
        .prefetch_related(
            # Not a channel's subscribers (a million, perhaps): its conversation shows the channel instead.
            Prefetch(
                "memberships",
                queryset=Membership.objects.exclude(conversation__kind=Conversation.Kind.CHANNEL)
                .select_related("user__avatar")
                .order_by("id"),
            )
        )
        .annotate(
            my_last_read=Subquery(mine.values("last_read_message_id")[:1]),
            my_muted=Subquery(mine.values("muted")[:1]),
            last_seen_id=Subquery(seen.order_by("-id").values("id")[:1]),
            last_seen_at=Subquery(seen.order_by("-id").values("created_at")[:1]),
            my_joined_at=Subquery(mine.values("joined_at")[:1]),
        )
        .annotate(unread_count=Coalesce(Subquery(unread), 0))
        .order_by(Coalesce("last_seen_at", "my_joined_at").desc(), "-id")
    )


def with_last_messages(user: User, conversations) -> list[Conversation]:
    """The rows, each with `last_seen_message` (or None, its media attached) and the cards and reply
    previews to present it, in a fixed handful of queries for any number of rows."""
    rows = list(conversations)
    ids = [row.last_seen_id for row in rows if row.last_seen_id]
    messages = Message.objects.select_related("sender__avatar").in_bulk(ids)
    messages_with_media(messages.values())
    cards = post_cards(user, [message.shared_post_id for message in messages.values()])
    replies = replies_seen(user, messages.values())
    played = voice_played_ids(user, messages.values())
    for row in rows:
        row.last_seen_message = messages.get(row.last_seen_id)
        row.presentation = {"cards": cards, "replies_seen": replies, "played": played}
    return rows


def channel_unread(user: User) -> tuple[int, int]:
    """(unread broadcasts over the user's unmuted channels, how many channels): one query, for the
    chat list's Subscriptions row."""
    rows = (
        conversations_for(user)
        .filter(kind=Conversation.Kind.CHANNEL)
        .order_by()
        .values_list("unread_count", "my_muted")
    )
    rows = list(rows)
    return sum(count for count, muted in rows if not muted), len(rows)


def muted_conversations_for(user: User) -> QuerySet[Conversation]:
    return conversations_for(user).filter(
        pk__in=Membership.objects.filter(user=user, muted=True).values("conversation_id")
    )


def conversation_detail(*, user: User, conversation_id) -> Conversation | None:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        return None
    rows = with_last_messages(user, conversations_for(user).filter(pk=conversation_id))
    return rows[0] if rows else None


def message_page(
    *, viewer: User, conversation: Conversation, before: int | None, after: int | None, limit: int
) -> dict:
    """A page of the messages `viewer` sees, in ascending id (their media attached), and whether older
    and newer ones exist."""
    messages = messages_seen_by(viewer).filter(conversation=conversation).select_related("sender__avatar")
    if after is not None:
        rows = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
        has_newer, rows = len(rows) > limit, rows[:limit]
        has_older = messages.filter(id__lt=rows[0].id).exists() if rows else messages.filter(id__lte=after).exists()
    else:
        scoped = messages.filter(id__lt=before) if before is not None else messages
        rows = list(scoped.order_by("-id")[: limit + 1])
        has_older, rows = len(rows) > limit, rows[:limit][::-1]
        has_newer = messages.filter(id__gt=rows[-1].id).exists() if rows else before is not None
    return {"results": messages_with_media(rows), "has_older": has_older, "has_newer": has_newer}


def message_page_around(*, viewer: User, conversation: Conversation, around: int, limit: int) -> dict:
    """`limit` messages centred on the message `around` (a search result opened): it and those just
    before it, then those just after, as two `message_page`s (so the same rule), joined."""
    upto = min(around, MAX_ID - 1) + 1
    older = message_page(viewer=viewer, conversation=conversation, before=upto, after=None, limit=limit - limit // 2)
    if limit // 2 == 0:
        return older
    newer = message_page(viewer=viewer, conversation=conversation, before=None, after=around, limit=limit // 2)
    return {
        "results": older["results"] + newer["results"],
        "has_older": older["has_older"],
        "has_newer": newer["has_newer"],
    }


def message_for_member(*, user: User, message_id) -> Message | None:
    """A message `user` sees; None alike for one they do not and one that does not exist."""
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        return None
    if not is_id(message_id):
        return None
    return messages_seen_by(user).select_related("sender__avatar", "conversation").filter(pk=message_id).first()


def others_read_up_to(*, conversation: Conversation, user: User) -> int:
    """How far every other member has read: a message at or below this is "read" for its sender."""
    if conversation.kind == Conversation.Kind.CHANNEL:
        return 0  # nobody writes there but the channel, and its subscribers' reading is their own
    pointers = Membership.objects.filter(conversation=conversation).exclude(user=user)
    return min(pointers.values_list("last_read_message_id", flat=True), default=0)


def messages_with_media(messages) -> list[Message]:
    """The messages, each with `media_items`, its photos in order (none once recalled): one query
    for all of them. Every list of messages that is presented passes through here; `message_data`
    looks up a message that did not, alone."""
    messages = list(messages)
    found = media_for(Media.AttachedKind.MESSAGE, [m.pk for m in messages if m.recalled_at is None])
    for message in messages:
        message.media_items = found.get(message.pk, [])
    return messages


def is_voice(message: Message) -> bool:
    """A message whose media (attached by `messages_with_media`) is a voice clip: never once recalled."""
    return any(item.kind == Media.Kind.AUDIO for item in getattr(message, "media_items", None) or ())


def voice_played_ids(user: User, messages) -> set[int]:
    """The ids of the voice messages among `messages` (their media attached) that `user` has played,
    their own included (a sender never sees the unplayed dot on theirs). One query, and none at all
    when no message is a voice message, so pages without voice cost what they did."""
    voice = [message for message in messages if is_voice(message)]
    own = {message.pk for message in voice if message.sender_id == user.pk}
    others = [message.pk for message in voice if message.pk not in own]
    if not others:
        return own
    return own | set(VoicePlay.objects.filter(user=user, message_id__in=others).values_list("message_id", flat=True))
