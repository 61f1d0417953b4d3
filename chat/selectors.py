"""Reads for chat. Every lookup of a conversation is scoped to membership in one query,
so a conversation that is not yours and one that does not exist take the same path."""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import User

from .models import Conversation, Membership, Message

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
    return list(Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True))


def conversations_for(user: User) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, with what the list shows."""
    mine = Membership.objects.filter(conversation=OuterRef("pk"), user=user)
    my_read = mine.values("last_read_message_id")[:1]
    return (
        Conversation.objects.filter(memberships__user=user)
        .select_related("last_message__sender")
        .prefetch_related(Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("id")))
        .annotate(my_last_read=Subquery(my_read), my_muted=Subquery(mine.values("muted")[:1]))
        .annotate(
            unread_count=Count(
                "messages",
                filter=Q(messages__id__gt=Subquery(my_read)) & ~Q(messages__sender=user),
            )
        )
        .order_by("-last_activity_at", "-id")
    )


def muted_conversations_for(user: User) -> QuerySet[Conversation]:
    return conversations_for(user).filter(
        pk__in=Membership.objects.filter(user=user, muted=True).values("conversation_id")
    )


def conversation_detail(*, user: User, conversation_id) -> Conversation | None:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        return None
    return conversations_for(user).filter(pk=conversation_id).first()


def message_page(*, conversation: Conversation, before: int | None, after: int | None, limit: int) -> dict:
    """A page of messages in ascending id, and whether older and newer ones exist."""
    messages = Message.objects.filter(conversation=conversation).select_related("sender")
    if after is not None:
        rows = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
        has_newer, rows = len(rows) > limit, rows[:limit]
        has_older = messages.filter(id__lt=rows[0].id).exists() if rows else messages.filter(id__lte=after).exists()
    else:
        scoped = messages.filter(id__lt=before) if before is not None else messages
        rows = list(scoped.order_by("-id")[: limit + 1])
        has_older, rows = len(rows) > limit, rows[:limit][::-1]
        has_newer = messages.filter(id__gt=rows[-1].id).exists() if rows else before is not None
    return {"results": rows, "has_older": has_older, "has_newer": has_newer}


def message_for_member(*, user: User, message_id) -> Message | None:
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        return None
    return (
        Message.objects.select_related("sender", "conversation")
        .filter(pk=message_id, conversation__memberships__user=user)
        .first()
    )


def others_read_up_to(*, conversation: Conversation, user: User) -> int:
    """How far every other member has read: a message at or below this is "read" for its sender."""
    pointers = Membership.objects.filter(conversation=conversation).exclude(user=user)
    return min(pointers.values_list("last_read_message_id", flat=True), default=0)
