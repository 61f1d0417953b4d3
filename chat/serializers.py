"""API and socket shapes for chat. The same serializers render REST answers and socket frames."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ContactRequest, User
from accounts.serializers import UserSummarySerializer, user_summary
from media.serializers import MediaSerializer

from .cards import article_cards, post_cards, unavailable
from .limits import MAX_BODY, MAX_CLIENT_ID, MAX_NOTE, MAX_TITLE
from .models import Conversation, Message
from .selectors import is_voice, messages_with_media, voice_played_ids, with_last_messages
from .visibility import replies_seen

USERNAME_MAX = User._meta.get_field("username").max_length


def _timestamp(value) -> str:
    # What DRF's DateTimeField writes for an aware UTC datetime.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _media(message: Message) -> list[dict]:
    if not hasattr(message, "media_items"):
        messages_with_media([message])  # lists attach theirs set-wise (chat.selectors); this one alone
    # Most messages have none: DRF's list machinery only for those that do.
    return MediaSerializer(message.media_items, many=True).data if message.media_items else []


def message_data(
    message: Message,
    shared_card: dict | None = None,
    *,
    reply_seen: bool = True,
    played: bool = False,
    article_card: dict | None = None,
) -> dict:
    """A message as every client sees it (REST answers, socket frames, replays).

    Written out by hand because it is on the send path of every message: DRF's field
    machinery cost a third of the time per send when profiled. `shared_card` is the
    shared post's card as made for this reader (chat.cards); without one, a shared
    post shows as unavailable, so a card is never shown to the wrong reader. `reply_seen`
    False leaves out what it replies to, a message this reader does not see (chat.visibility).
    `article_card` is the shared article's card for this reader, the same way (unavailable without one).
    The photos are the message's `media_items` (chat.selectors.messages_with_media). `played`: this
    reader has played its voice clip (chat.selectors.voice_played_ids); null for a message without one.
    """
    recalled = message.recalled_at is not None
    media = [] if recalled else _media(message)
    shared = None if message.shared_post_id is None or recalled else shared_card or unavailable(message.shared_post_id)
    article_id = message.shared_article_id
    article = None if article_id is None or recalled else article_card or unavailable(article_id)
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": user_summary(message.sender),
        # A recalled message stays as a marker; its text, its photos (and what it answered) are
        # served to nobody, replays included.
        "body": "" if recalled else message.body,
        "media": media,
        "client_id": message.client_id,
        "reply_to": message.reply_to_id if reply_seen and not recalled else None,
        "shared_post": shared,
        "shared_article": article,
        "created_at": _timestamp(message.created_at),
        "recalled": recalled,
        # Pushes of new messages carry false (nobody has played them yet; clients never show the
        # unplayed dot on the reader's own messages); pages and replays carry the reader's state.
        "played": played if is_voice(message) else None,
        # "call": the record of a voice or video call (chat.calls); its body says how it went.
        "kind": message.kind,
    }


class MessageSerializer(serializers.ModelSerializer):
    """Declares the message shape for the API schema; `message_data` renders it."""

    sender = UserSummarySerializer(read_only=True)
    body = serializers.CharField(read_only=True, help_text="Empty once the message is recalled.")
    media = MediaSerializer(many=True, read_only=True, help_text="The message's photos, in order; none once recalled.")
    recalled = serializers.BooleanField(read_only=True)
    played = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="For a voice message: whether this reader has played it (POST /api/messages/{id}/played/; "
        "true for the sender's own). False in pushes of new messages. Null for any other message.",
    )
    shared_post = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text="The shared post's card as this reader may see it (`image`: its first photo, a repost's the "
        "original's, or null; `media_count`), or {id, unavailable: true}.",
    )
    shared_article = serializers.JSONField(
        read_only=True,
        allow_null=True,
        help_text="The shared article's card as this reader may read it ({id, author, title, excerpt, cover, "
        "read_count, url}), or {id, unavailable: true}.",
    )

    class Meta:
        model = Message
        fields = (
            "id",
            "conversation",
            "sender",
            "body",
            "media",
            "client_id",
            "reply_to",
            "shared_post",
            "shared_article",
            "created_at",
            "recalled",
            "played",
            "kind",
        )
        read_only_fields = fields

    def to_representation(self, message: Message) -> dict:
        """As the context's `viewer` may see it: with `cards` (chat.cards.post_cards) and
        `replies_seen` (chat.selectors.replies_seen) made for a whole page, else asked here."""
        viewer = self.context.get("viewer")
        card = None
        if message.shared_post_id is not None:
            card = (self.context.get("cards") or {}).get(message.shared_post_id)
            if card is None and viewer is not None:
                card = post_cards(viewer, [message.shared_post_id])[message.shared_post_id]
        replies = self.context.get("replies_seen")
        if replies is None and message.reply_to_id is not None:
            replies = replies_seen(viewer, [message]) if viewer is not None else set()
        played = self.context.get("played")
        if played is None and viewer is not None:
            if not hasattr(message, "media_items"):
                messages_with_media([message])  # what `message_data` would look up anyway
            played = voice_played_ids(viewer, [message])
        article = None
        if message.shared_article_id is not None:
            article = (self.context.get("article_cards") or {}).get(message.shared_article_id)
            if article is None and viewer is not None:
                article = article_cards(viewer, [message.shared_article_id])[message.shared_article_id]
        return message_data(
            message,
            card,
            reply_seen=message.reply_to_id in (replies or ()),
            played=message.pk in (played or ()),
            article_card=article,
        )


class MessageCreateSerializer(serializers.Serializer):
    """Documents the request body; validation happens in chat.services, shared with the socket."""

    body = serializers.CharField(
        max_length=MAX_BODY, required=False, help_text="May be empty when sharing a post or sending photos."
    )
    client_id = serializers.CharField(required=False, max_length=MAX_CLIENT_ID)
    reply_to = serializers.IntegerField(required=False)
    shared_post = serializers.IntegerField(required=False, help_text="A post you may see, shown as a card.")
    shared_article = serializers.IntegerField(
        required=False, help_text="A published article you may read, shown as a card."
    )
    media = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text=f"Upload ids (POST /api/media/), shown in this order: at most {settings.MEDIA_PER_ITEM}, each "
        "your own, ready and not attached to anything yet.",
    )


class ContactRequestSerializer(serializers.ModelSerializer):
    from_user = UserSummarySerializer(read_only=True)
    to_user = UserSummarySerializer(read_only=True)

    class Meta:
        model = ContactRequest
        fields = ("id", "from_user", "to_user", "note", "status", "created_at")
        read_only_fields = fields


class ContactRequestCreateSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=USERNAME_MAX)
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE)


class AcceptedSerializer(serializers.Serializer):
    request = ContactRequestSerializer()
    conversation_id = serializers.IntegerField()


class ContactPresenceSerializer(UserSummarySerializer):
    """A contact (as a person appears everywhere, their badge included) with presence: expects
    `presence` in the context ({user_id: {online, last_seen}})."""

    online = serializers.SerializerMethodField()
    last_seen = serializers.SerializerMethodField()

    class Meta(UserSummarySerializer.Meta):
        fields = (*UserSummarySerializer.Meta.fields, "online", "last_seen")
        read_only_fields = fields

    def get_online(self, user: User) -> bool:
        return self.context["presence"][user.pk]["online"]

    def get_last_seen(self, user: User) -> str | None:
        return self.context["presence"][user.pk]["last_seen"]


class UsernameSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX)


class UsernamesSerializer(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(max_length=USERNAME_MAX))


class ConversationCreateSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.CharField(max_length=USERNAME_MAX))
    title = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TITLE)


class ReadSerializer(serializers.Serializer):
    up_to = serializers.IntegerField()


def conversation_title(conversation: Conversation, viewer) -> str:
    """A direct conversation is titled with the other person's name, as WeChat does; a channel's, with the channel's."""
    if conversation.kind == Conversation.Kind.CHANNEL and conversation.channel_id:
        return conversation.channel.account.shown_name
    if conversation.title or conversation.kind == Conversation.Kind.GROUP:
        return conversation.title
    others = [m.user for m in conversation.memberships.all() if viewer is None or m.user_id != viewer.pk]
    return others[0].shown_name if others else ""


class ConversationSerializer(serializers.ModelSerializer):
    """Expects a conversation from chat.selectors.conversations_for (annotated, prefetched) passed
    through with_last_messages."""

    members = serializers.SerializerMethodField()
    last_message = serializers.SerializerMethodField(help_text="The last message the viewer sees, or null.")
    unread_count = serializers.IntegerField(read_only=True)
    title = serializers.SerializerMethodField()
    muted = serializers.BooleanField(
        source="my_muted", read_only=True, help_text="Muted by the viewer: no badge or alert for its messages."
    )
    channel = serializers.SerializerMethodField(
        help_text="The channel: for kind `channel` (its broadcasts, read-only) and for a subscriber's private "
        "conversation with it; otherwise null."
    )

    class Meta:
        model = Conversation
        fields = ("id", "kind", "title", "members", "last_message", "unread_count", "muted", "channel", "created_at")
        read_only_fields = fields

    def get_members(self, conversation: Conversation) -> list[dict]:
        return [{**user_summary(m.user), "role": m.role} for m in conversation.memberships.all()]

    @extend_schema_field(MessageSerializer(allow_null=True))
    def get_last_message(self, conversation: Conversation) -> dict | None:
        """The last message the viewer sees, as chat.selectors.with_last_messages found it for
        the whole list (a row that did not pass through it is looked up here, alone)."""
        viewer = self.context.get("viewer")
        if not hasattr(conversation, "last_seen_message"):
            if viewer is None:
                return None
            with_last_messages(viewer, [conversation])
        message = conversation.last_seen_message
        if message is None:
            return None
        context = {**conversation.presentation, "viewer": viewer}
        return MessageSerializer(message, context=context).data

    def get_title(self, conversation: Conversation) -> str:
        return conversation_title(conversation, self.context.get("viewer"))

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_channel(self, conversation: Conversation) -> dict | None:
        return user_summary(conversation.channel.account) if conversation.channel_id else None


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    older = serializers.URLField(allow_null=True)
    newer = serializers.URLField(allow_null=True)


class FromPostSerializer(serializers.Serializer):
    post = serializers.IntegerField()
    members = serializers.ListField(child=serializers.CharField(max_length=USERNAME_MAX))


class PrivateThreadSerializer(serializers.Serializer):
    conversation = ConversationSerializer()
    invited = serializers.ListField(child=serializers.CharField(), help_text="Sent a contact request instead.")
