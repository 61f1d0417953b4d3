"""API and socket shapes for chat. The same serializers render REST answers and socket frames."""

from rest_framework import serializers

from accounts.models import ContactRequest, User
from accounts.serializers import UserSummarySerializer

from .models import Conversation, Message


class MessageSerializer(serializers.ModelSerializer):
    sender = UserSummarySerializer(read_only=True)
    body = serializers.SerializerMethodField()
    recalled = serializers.SerializerMethodField()
    shared_post = serializers.SerializerMethodField(help_text="A card of a shared post (not yet supported: null).")

    class Meta:
        model = Message
        fields = (
            "id",
            "conversation",
            "sender",
            "body",
            "client_id",
            "reply_to",
            "shared_post",
            "created_at",
            "recalled",
        )
        read_only_fields = fields

    def get_body(self, message: Message) -> str:
        # A recalled message stays as a marker; its text is served to nobody, replays included.
        return "" if message.recalled else message.body

    def get_recalled(self, message: Message) -> bool:
        return message.recalled

    def get_shared_post(self, message: Message) -> dict | None:
        return None


class MessageCreateSerializer(serializers.Serializer):
    """Documents the request body; validation happens in chat.services, shared with the socket."""

    body = serializers.CharField(max_length=4000)
    client_id = serializers.CharField(required=False, max_length=64)
    reply_to = serializers.IntegerField(required=False)


class ContactRequestSerializer(serializers.ModelSerializer):
    from_user = UserSummarySerializer(read_only=True)
    to_user = UserSummarySerializer(read_only=True)

    class Meta:
        model = ContactRequest
        fields = ("id", "from_user", "to_user", "note", "status", "created_at")
        read_only_fields = fields


class ContactRequestCreateSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=30)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class AcceptedSerializer(serializers.Serializer):
    request = ContactRequestSerializer()
    conversation_id = serializers.IntegerField()


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("username", "display_name")
        read_only_fields = fields


class ContactPresenceSerializer(ContactSerializer):
    """A contact with presence: expects `presence` in the context ({user_id: {online, last_seen}})."""

    online = serializers.SerializerMethodField()
    last_seen = serializers.SerializerMethodField()

    class Meta(ContactSerializer.Meta):
        fields = ("username", "display_name", "online", "last_seen")
        read_only_fields = fields

    def get_online(self, user: User) -> bool:
        return self.context["presence"][user.pk]["online"]

    def get_last_seen(self, user: User) -> str | None:
        return self.context["presence"][user.pk]["last_seen"]


class UsernameSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=30)


class UsernamesSerializer(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(max_length=30))


class ConversationCreateSerializer(serializers.Serializer):
    members = serializers.ListField(child=serializers.CharField(max_length=30))
    title = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ReadSerializer(serializers.Serializer):
    up_to = serializers.IntegerField()


class ConversationSerializer(serializers.ModelSerializer):
    """Expects a conversation from chat.selectors.conversations_for (annotated, prefetched)."""

    members = serializers.SerializerMethodField()
    last_message = MessageSerializer(read_only=True)
    unread_count = serializers.IntegerField(read_only=True)
    title = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ("id", "kind", "title", "members", "last_message", "unread_count", "created_at")
        read_only_fields = fields

    def get_members(self, conversation: Conversation) -> list[dict]:
        return [
            {"username": m.user.username, "display_name": m.user.display_name, "role": m.role}
            for m in conversation.memberships.all()
        ]

    def get_title(self, conversation: Conversation) -> str:
        """A direct conversation is titled with the other person's name, as WeChat does."""
        if conversation.title or conversation.kind == Conversation.Kind.GROUP:
            return conversation.title
        viewer = self.context.get("viewer")
        others = [m.user for m in conversation.memberships.all() if viewer is None or m.user_id != viewer.pk]
        return others[0].shown_name if others else ""


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True)
    older = serializers.URLField(allow_null=True)
    newer = serializers.URLField(allow_null=True)
