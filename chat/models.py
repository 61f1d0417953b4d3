"""Conversations (direct and group), their members, and messages."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Conversation(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct"
        GROUP = "group"
        # A channel's broadcasts, read-only for its subscribers (its members); see Channel.
        CHANNEL = "channel"

    kind = models.CharField(max_length=7, choices=Kind.choices)
    title = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # "<smaller user id>:<larger user id>" for a direct conversation: one per pair, enforced by the database.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message = models.ForeignKey("Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Set on every message sent, so not indexed on its own: each index is one more page written a
    # send (bench/RESULTS.md, "Chat: two round trips on PostgreSQL, six pages fewer a send"). Only
    # a channel's inbox sorts by it: the index on (channel, last_activity_at) below.
    last_activity_at = models.DateTimeField(auto_now_add=True)
    # The channel this conversation belongs to: its broadcasts (kind channel), or one subscriber's
    # private conversation with it (kind direct). Loaded with the conversation, so the send path
    # knows a channel's conversation without asking again.
    channel = models.ForeignKey(
        "Channel", on_delete=models.CASCADE, null=True, blank=True, related_name="conversations", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel"], condition=Q(kind="channel"), name="chat_one_broadcast_stream")
        ]
        indexes = [
            # A channel's inbox, newest activity first; the conversations of no channel (almost all)
            # are not in it, so their messages do not write to it.
            models.Index(
                fields=["channel", "-last_activity_at"],
                condition=Q(channel__isnull=False),
                name="chat_channel_inbox",
            )
        ]

    @staticmethod
    def key_for_pair(a_id: int, b_id: int) -> str:
        low, high = sorted((a_id, b_id))
        return f"{low}:{high}"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        MEMBER = "member"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_message_id = models.BigIntegerField(default=0)
    # Where this member's view of the conversation starts: they see the messages with a larger id
    # (chat.selectors.messages_seen_by). Set to the conversation's last message id when the
    # membership begins, so a new member, or one removed and added again, sees nothing from
    # before (as in WeChat); 0 for the founders and for memberships made before the rule.
    # last_read_message_id starts there too, so it never lies below it.
    visible_after_message_id = models.BigIntegerField(default=0)
    # WeChat's "mute notifications": messages still arrive and show, but raise no badge or alert.
    muted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="chat_membership_unique")]


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text"
        # The record of a voice or video call (chat.calls): its body says how it went.
        CALL = "call"

    # Looked up by the (conversation, id) index below: an index of its own would be one more page
    # written a send.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    client_id = models.CharField(max_length=64, blank=True)
    # These three are empty on most messages, and are looked up only when what they point at is
    # deleted (SET_NULL): indexed where set (the partial indexes below), not a page written for
    # every message that has none.
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # A post shared into the chat: each member sees it as they may see the post, or "unavailable".
    shared_post = models.ForeignKey(
        "microblog.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # An article shared into the chat: each member sees its card as they may read it, or "unavailable".
    shared_article = models.ForeignKey(
        "articles.Article", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.TEXT)

    class Meta:
        constraints = [
            # Idempotent sends: a retried client_id from the same sender is the same message.
            models.UniqueConstraint(
                fields=["sender", "client_id"], condition=~Q(client_id=""), name="chat_message_client_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            *(
                models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"chat_msg_{name}_set")
                for name in ("reply_to", "shared_post", "shared_article")
            ),
        ]

    @property
    def recalled(self) -> bool:
        return self.recalled_at is not None


class VoicePlay(models.Model):
    """A voice message its listener has played: WeChat's red dot goes once this row exists.

    The listener's own state, stored apart from the message (one row per listener and message, made
    once, never changed): a sender's own voice messages have none and never show the dot.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    played_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="chat_voiceplay_unique")]


class Call(models.Model):
    """One voice or video call between the two members of a direct conversation (chat.calls).

    The row is what every worker agrees on: each change of state is a conditional UPDATE (or a
    row lock), so two workers, or two tabs of the callee, cannot both win. The channels and the
    workers of the two sockets in the call are kept so that another worker can tell when the
    worker of one side died (its heartbeat key is gone) and end the call as failed.
    """

    class State(models.TextChoices):
        RINGING = "ringing"
        ACTIVE = "active"
        ENDED = "ended"

    class Media(models.TextChoices):
        VOICE = "voice"
        VIDEO = "video"

    # The client's call_id: the caller names the call before the server answers, so its ICE
    # candidates can carry the id at once.
    id = models.UUIDField(primary_key=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="calls")
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    callee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    media = models.CharField(max_length=5, choices=Media.choices)
    state = models.CharField(max_length=7, choices=State.choices, default=State.RINGING)
    caller_channel = models.CharField(max_length=200)
    caller_worker = models.CharField(max_length=64)
    callee_channel = models.CharField(max_length=200, blank=True)
    callee_worker = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ring_deadline = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # How it ended: a reason of `call.ended`, or "cancelled" (the caller hung up while it rang).
    outcome = models.CharField(max_length=20, blank=True)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["state"], name="chat_call_state")]


class MessageHidden(models.Model):
    """A message one reader deleted for themselves ("delete for me"): gone from everything they see
    (chat.visibility.messages_seen_by), unchanged for everyone else. One row per reader and message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    hidden_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="chat_messagehidden_unique")]


class Channel(models.Model):
    """A channel (WeChat's subscription account): an account of kind `channel`, run by its owner
    and the editors they add. Its subscribers are the members of its broadcast conversation
    (Conversation kind channel); a broadcast is one Message there plus its Broadcast row, stored
    once whatever the number of subscribers (chat.services.channels)."""

    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_profile")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels_owned")
    editors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="channels_edited", blank=True)
    # Kept with F() by subscribe and unsubscribe (guarded by the membership's unique constraint),
    # so the channel's page never counts a million rows.
    subscriber_count = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.account.username


class Broadcast(models.Model):
    """One broadcast: its message in the channel's conversation carries the unread state and the order."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="broadcasts")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="broadcast")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "-id"], name="chat_broadcast_channel")]


class BroadcastArticle(models.Model):
    """The 1-8 articles of a broadcast, in order (WeChat's multi-article message)."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "position"], name="chat_broadcastarticle_position"),
        ]


class ChannelAutoReply(models.Model):
    """The owner's keyword table: a private message equal to a keyword (ignoring case) is answered at once."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="auto_replies")
    keyword = models.CharField(max_length=50)
    reply = models.CharField(max_length=1000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "keyword"], name="chat_autoreply_keyword")]


class SubscriptionChange(models.Model):
    """One subscribe (+1) or unsubscribe (-1), kept for the dashboard's subscribers-over-time chart.
    Written per act of a subscriber, never per broadcast."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    delta = models.SmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "at"], name="chat_subscriptionchange_at")]
