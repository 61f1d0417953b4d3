"""Channels (WeChat's subscription accounts): creating one, editors, subscribing, broadcasting,
and the private conversations of subscribers with it.

The fan-out design, in short (README, "Channels"): a channel's subscribers are the members of its
broadcast conversation (Conversation kind channel), made when they subscribe. A broadcast is one
Message there and one Broadcast row (plus its 1-8 article rows), and one group_send to the channel's
layer group, which holds only the sockets open now. Nothing is written per subscriber: each one's
unread count is their membership's read marker against the conversation's messages, as in any chat.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User, username_validator
from accounts.selectors import is_blocked_between
from accounts.validators import display_name_check
from articles.models import Article
from common.errors import NotFound, RateLimited
from media.attach import media_attach_many, media_claim_many
from media.models import Media
from realtime.services import broadcast_send, subscriptions_changed

from ..channel_data import broadcast_frame
from ..models import (
    Broadcast,
    BroadcastArticle,
    Channel,
    ChannelAutoReply,
    Conversation,
    Membership,
    Message,
    SubscriptionChange,
)
from .checks import ChatError, check_text
from .messages import message_send

MAX_CHANNELS_PER_OWNER = 10
MAX_EDITORS = 20
MAX_ARTICLES = 8
MAX_BROADCAST_TITLE = 120
MAX_BROADCAST_BODY = 1000
MAX_AUTO_REPLIES = 50
MAX_KEYWORD = 50
MAX_AUTO_REPLY = 1000


def stream_of(channel: Channel) -> Conversation:
    """The channel's broadcast conversation."""
    return Conversation.objects.get(channel=channel, kind=Conversation.Kind.CHANNEL)


def is_staff_of(user: User, channel: Channel) -> bool:
    """The owner or one of the editors: who may broadcast and answer as the channel."""
    if not user.is_authenticated:
        return False
    return channel.owner_id == user.pk or channel.editors.filter(pk=user.pk).exists()


@transaction.atomic
def channel_create(*, owner: User, username, display_name, bio="") -> Channel:
    """A new account of kind channel, owned by `owner`, with its (empty) broadcast conversation."""
    if owner.is_channel:
        raise ChatError("forbidden", "A channel cannot create channels.", 403)
    if not isinstance(username, str) or not isinstance(display_name, str) or not isinstance(bio, str):
        raise ChatError("invalid", "username, display_name and bio must be strings.")
    try:
        username_validator(username)
    except Exception:
        raise ChatError("invalid_username", "Use 3 to 30 characters: ASCII letters, digits or underscores.") from None
    display_name = check_text(display_name, field="display_name", max_length=50)
    bio = check_text(bio, field="bio", max_length=280, allow_empty=True)
    if Channel.objects.filter(owner=owner).count() >= MAX_CHANNELS_PER_OWNER:
        raise ChatError("too_many", f"A person may own at most {MAX_CHANNELS_PER_OWNER} channels.")
    if User.objects.filter(username__iexact=username).exists():
        raise ChatError("username_taken", "That username is taken.")
    display_name_check(display_name, username=username)
    try:
        with transaction.atomic():
            # No password: a channel never signs in; its owner and editors act for it.
            account = User.objects.create(
                username=username,
                display_name=display_name,
                bio=bio,
                kind=User.Kind.CHANNEL,
                password=make_password(None),
            )
    except IntegrityError:
        raise ChatError("username_taken", "That username is taken.") from None
    channel = Channel.objects.create(account=account, owner=owner)
    Conversation.objects.create(kind=Conversation.Kind.CHANNEL, channel=channel, created_by=owner)
    return channel


def _check_owner(user: User, channel: Channel) -> None:
    if channel.owner_id != user.pk:
        raise ChatError("forbidden", "Only the channel's owner can do that.", 403)


@transaction.atomic
def channel_editor_add(*, user: User, channel: Channel, editor: User) -> None:
    _check_owner(user, channel)
    if editor.is_channel or editor.pk == channel.owner_id:
        raise ChatError("invalid", "An editor must be a person other than the owner.")
    if channel.editors.count() >= MAX_EDITORS:
        raise ChatError("too_many", f"A channel has at most {MAX_EDITORS} editors.")
    channel.editors.add(editor)


@transaction.atomic
def channel_editor_remove(*, user: User, channel: Channel, editor: User) -> None:
    _check_owner(user, channel)
    channel.editors.remove(editor)


@transaction.atomic
def channel_subscribe(*, user: User, channel: Channel) -> bool:
    """Subscribes `user` (idempotent; True if it is new). A block either way hides the channel: NotFound."""
    if user.is_channel:
        raise ChatError("forbidden", "A channel cannot subscribe.", 403)
    if is_blocked_between(user, channel.account_id):
        raise NotFound()
    stream = stream_of(channel)
    # History stays readable (visible after 0) but arrives read: subscribing lights no badge.
    _, created = Membership.objects.get_or_create(
        conversation=stream,
        user=user,
        defaults={"last_read_message_id": stream.last_message_id or 0, "visible_after_message_id": 0},
    )
    if created:
        Channel.objects.filter(pk=channel.pk).update(subscriber_count=F("subscriber_count") + 1)
        _subscription_logged(channel, +1)
        subscriptions_changed(user_id=user.pk, join=[channel.pk])
    return created


@transaction.atomic
def channel_unsubscribe(*, user: User, channel: Channel) -> bool:
    """Unsubscribes `user` (idempotent; True if they were subscribed)."""
    deleted, _ = Membership.objects.filter(
        conversation__channel=channel, conversation__kind=Conversation.Kind.CHANNEL, user=user
    ).delete()
    if deleted:
        Channel.objects.filter(pk=channel.pk).update(subscriber_count=F("subscriber_count") - 1)
        _subscription_logged(channel, -1)
        subscriptions_changed(user_id=user.pk, leave=[channel.pk])
    return bool(deleted)


def _subscription_logged(channel: Channel, delta: int) -> None:
    SubscriptionChange.objects.create(channel=channel, delta=delta)


def _check_articles(channel: Channel, articles) -> list[Article]:
    """1-8 distinct article ids, each published, public, and written by the owner or an editor:
    every subscriber may read what a broadcast carries, and a channel carries its own writing."""
    if not isinstance(articles, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in articles):
        raise ChatError("invalid", "articles must be a list of article ids.")
    if not 1 <= len(articles) <= MAX_ARTICLES:
        raise ChatError("invalid", f"A broadcast carries 1 to {MAX_ARTICLES} articles.")
    if len(set(articles)) != len(articles):
        raise ChatError("invalid", "An article may appear once in a broadcast.")
    writers = {channel.owner_id, *channel.editors.values_list("pk", flat=True)}
    found = Article.objects.published().filter(
        pk__in=[i for i in articles if 0 < i < 2**63], visibility="public", author_id__in=writers
    )
    by_id = {article.pk: article for article in found}
    if len(by_id) != len(articles):
        raise ChatError(
            "invalid", "Each article must be a published, public article by the channel's owner or editors."
        )
    return [by_id[i] for i in articles]


def _check_daily_limit(channel: Channel) -> None:
    """At most BROADCASTS_PER_DAY in any 24 hours; past it, RateLimited until the oldest of them is a day old."""
    most = settings.BROADCASTS_PER_DAY
    since = timezone.now() - timedelta(days=1)
    recent = list(
        Broadcast.objects.filter(channel=channel, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:most]
    )
    if len(recent) >= most:
        wait = (recent[-1] + timedelta(days=1) - timezone.now()).total_seconds()
        raise RateLimited(wait, detail=f"A channel may broadcast {most} time(s) a day.")


@transaction.atomic
def broadcast_create(*, sender: User, channel: Channel, title, body="", articles=None, media=None) -> Broadcast:
    """One broadcast, stored once: a message in the channel's conversation and its Broadcast row.
    Its subscribers' unread counts move by the read markers they already have; the sockets open now
    hear `broadcast.new` through the channel's group, after commit."""
    # The channel's row, locked: two editors broadcasting at once are counted one after the other.
    channel = Channel.objects.select_for_update(of=("self",)).select_related("account__avatar").get(pk=channel.pk)
    if not is_staff_of(sender, channel):
        raise ChatError("forbidden", "Only the channel's owner and editors can broadcast.", 403)
    title = check_text(title, field="title", max_length=MAX_BROADCAST_TITLE)
    body = check_text("" if body is None else body, field="body", max_length=MAX_BROADCAST_BODY, allow_empty=True)
    chosen = _check_articles(channel, articles)
    media = [] if media is None else media
    photos = []
    if media:
        [answer] = media_claim_many(requests=[(sender, media)], kind=Media.AttachedKind.MESSAGE)
        if isinstance(answer, Exception):
            raise answer
        photos = answer
    _check_daily_limit(channel)
    stream = stream_of(channel)
    message = Message.objects.create(
        conversation=stream, sender=channel.account, body=f"{title}\n\n{body}" if body else title
    )
    if photos:
        media_attach_many([(photos, message.pk)], kind=Media.AttachedKind.MESSAGE)
    broadcast = Broadcast.objects.create(channel=channel, message=message, sent_by=sender, title=title, body=body)
    BroadcastArticle.objects.bulk_create(
        [BroadcastArticle(broadcast=broadcast, article=article, position=i) for i, article in enumerate(chosen)]
    )
    Conversation.objects.filter(pk=stream.pk).update(last_message=message, last_activity_at=message.created_at)
    broadcast.channel = channel
    broadcast.message = message
    broadcast.article_list = chosen
    message.media_items = photos
    broadcast_send(channel_id=channel.pk, frame=broadcast_frame(broadcast, stream))
    return broadcast


def _check_staff(user: User, channel: Channel) -> None:
    if not is_staff_of(user, channel):
        raise NotFound()


def private_conversation(*, user: User, channel: Channel) -> Conversation:
    """The subscriber's one private conversation with the channel (made on first use). Only a
    subscriber may open one; a block either way hides the channel."""
    if is_blocked_between(user, channel.account_id):
        raise NotFound()
    subscribed = Membership.objects.filter(
        conversation__channel=channel, conversation__kind=Conversation.Kind.CHANNEL, user=user
    ).exists()
    if not subscribed:
        raise ChatError("not_subscribed", "Subscribe to the channel to message it.", 403)
    key = Conversation.key_for_pair(user.pk, channel.account_id)
    with transaction.atomic():
        conversation = Conversation.objects.filter(direct_key=key).first()
        if conversation is None:
            try:
                with transaction.atomic():
                    conversation = Conversation.objects.create(
                        kind=Conversation.Kind.DIRECT, direct_key=key, channel=channel, created_by=user
                    )
                    Membership.objects.bulk_create(
                        [
                            Membership(conversation=conversation, user=user),
                            Membership(conversation=conversation, user_id=channel.account_id),
                        ]
                    )
            except IntegrityError:
                conversation = Conversation.objects.get(direct_key=key)
    return conversation


def channel_reply(*, user: User, channel: Channel, conversation_id, body) -> Message:
    """The owner or an editor answers a subscriber's private message, signed as the channel."""
    _check_staff(user, channel)
    conversation = Conversation.objects.filter(
        pk=conversation_id if isinstance(conversation_id, int) else -1,
        channel=channel,
        kind=Conversation.Kind.DIRECT,
    ).first()
    if conversation is None:
        raise NotFound()
    account = User.objects.select_related("avatar").get(pk=channel.account_id)
    message, _ = message_send(sender=account, conversation=conversation, body=body)
    return message


@transaction.atomic
def auto_reply_set(*, user: User, channel: Channel, keyword, reply) -> ChannelAutoReply | None:
    """Sets (or, with an empty reply, removes) the answer to a keyword. The owner only."""
    _check_owner(user, channel)
    keyword = check_text(keyword, field="keyword", max_length=MAX_KEYWORD)
    reply = check_text(reply, field="reply", max_length=MAX_AUTO_REPLY, allow_empty=True)
    rows = ChannelAutoReply.objects.filter(channel=channel, keyword__iexact=keyword)
    if not reply:
        rows.delete()
        return None
    existing = rows.first()
    if existing is not None:
        existing.reply = reply
        existing.save(update_fields=["reply"])
        return existing
    if ChannelAutoReply.objects.filter(channel=channel).count() >= MAX_AUTO_REPLIES:
        raise ChatError("too_many", f"A channel has at most {MAX_AUTO_REPLIES} keywords.")
    return ChannelAutoReply.objects.create(channel=channel, keyword=keyword, reply=reply)
