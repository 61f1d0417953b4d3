"""Reads and presentation for channels: the channel, its broadcasts with their article cards, a
person's subscriptions, the owner's analytics. Lists are set-wise: a fixed number of queries."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import is_blocked_between
from accounts.serializers import user_summary
from articles.models import Article
from common.prepared import Prepared

from .cards import article_card_of, article_cards
from .models import Broadcast, BroadcastArticle, Channel, Conversation, Membership, SubscriptionChange

BROADCAST_PAGE = 20
MAX_BROADCAST_PAGE = 100


def channel_by_username(username, viewer=None) -> Channel | None:
    """The channel of that username; None for anything else, and for a viewer with a block either way."""
    if not isinstance(username, str) or "\x00" in username:
        return None
    channel = (
        Channel.objects.select_related("account__avatar", "owner")
        .filter(account__username__iexact=username, account__is_active=True)
        .first()
    )
    if channel is None:
        return None
    if viewer is not None and viewer.is_authenticated and is_blocked_between(viewer, channel.account_id):
        return None
    return channel


def is_subscribed(viewer, channel: Channel) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return Membership.objects.filter(
        conversation__channel=channel, conversation__kind=Conversation.Kind.CHANNEL, user=viewer
    ).exists()


def is_staff(viewer, channel: Channel) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    return channel.owner_id == viewer.pk or channel.editors.filter(pk=viewer.pk).exists()


def channel_data(channel: Channel, viewer=None) -> dict:
    return {
        **user_summary(channel.account),
        "bio": channel.account.bio,
        "subscriber_count": channel.subscriber_count,
        "is_subscribed": is_subscribed(viewer, channel),
        "owner": channel.owner.username,
        "created_at": channel.created_at,
    }


# Asked by every socket that connects (all of them at once after a restart): built once.
@Prepared
def _subscribed_channel_ids(user_id: int):
    memberships = Membership.objects.filter(user_id=user_id, conversation__kind=Conversation.Kind.CHANNEL)
    return memberships.values_list("conversation__channel_id", flat=True)


def subscribed_channel_ids(user: User) -> list[int]:
    """The channels whose broadcast group the user's sockets join (chat.consumers, on connect)."""
    return _subscribed_channel_ids(user.pk)


def broadcasts_of(channel: Channel) -> QuerySet[Broadcast]:
    return Broadcast.objects.filter(channel=channel).select_related("channel__account__avatar").order_by("-id")


def with_articles(broadcasts, viewer=None) -> list[Broadcast]:
    """Each broadcast with `cards`: its articles' cards in order, as the viewer may read them. Two queries."""
    broadcasts = list(broadcasts)
    items = list(
        BroadcastArticle.objects.filter(broadcast__in=broadcasts)
        .order_by("broadcast_id", "position")
        .values_list("broadcast_id", "article_id")
    )
    cards = article_cards(viewer, [aid for _, aid in items]) if items else {}
    by_broadcast: dict[int, list[dict]] = {}
    for bid, aid in items:
        by_broadcast.setdefault(bid, []).append(cards[aid])
    for broadcast in broadcasts:
        broadcast.cards = by_broadcast.get(broadcast.pk, [])
    return broadcasts


def broadcast_data(broadcast: Broadcast) -> dict:
    """A broadcast as clients see it; `cards` set by with_articles (or from `article_list` when just made)."""
    cards = getattr(broadcast, "cards", None)
    if cards is None:
        cards = [article_card_of(article) for article in getattr(broadcast, "article_list", [])]
    return {
        "id": broadcast.pk,
        "channel": user_summary(broadcast.channel.account),
        "message": broadcast.message_id,
        "title": broadcast.title,
        "body": broadcast.body,
        "articles": cards,
        "created_at": broadcast.created_at.isoformat().replace("+00:00", "Z"),
    }


def broadcast_frame(broadcast: Broadcast, conversation: Conversation) -> dict:
    """`broadcast.new`: the same frame for every subscriber (their unread count is theirs to add up)."""
    return {
        "type": "broadcast.new",
        "broadcast": broadcast_data(broadcast),
        "conversation": {
            "id": conversation.pk,
            "kind": Conversation.Kind.CHANNEL,
            "title": broadcast.channel.account.shown_name,
            "channel": user_summary(broadcast.channel.account),
        },
    }


def channels_of_staff(user: User) -> list[Channel]:
    """The channels the user owns or edits, for their pages."""
    return list(
        Channel.objects.filter(Q(owner=user) | Q(editors=user))
        .distinct()
        .select_related("account__avatar")
        .order_by("account__username")
    )


def inbox_of(channel: Channel) -> QuerySet[Conversation]:
    """The subscribers' private conversations with the channel, newest activity first."""
    return (
        Conversation.objects.filter(channel=channel, kind=Conversation.Kind.DIRECT)
        .select_related("last_message__sender")
        .prefetch_related("memberships__user__avatar")
        .order_by("-last_activity_at", "-id")
    )


def analytics(channel: Channel, *, days: int = 30) -> dict:
    """Subscribers at the end of each of the last `days` days, and per broadcast its reads (subscribers
    whose read marker passed it: no row is kept per read) and its articles' reads."""
    now = timezone.now()
    start = (now - timedelta(days=days - 1)).date()
    changes = SubscriptionChange.objects.filter(channel=channel)
    before = sum(changes.filter(at__date__lt=start).values_list("delta", flat=True))
    per_day = dict(
        changes.filter(at__date__gte=start)
        .values_list("at__date")
        .annotate(total=Count("pk", filter=Q(delta=1)) - Count("pk", filter=Q(delta=-1)))
        .values_list("at__date", "total")
    )
    series, running = [], before
    for offset in range(days):
        day = start + timedelta(days=offset)
        running += per_day.get(day, 0)
        series.append((day, running))
    stream = Conversation.objects.filter(channel=channel, kind=Conversation.Kind.CHANNEL)
    recent = list(broadcasts_of(channel)[:10])
    reads = {}
    for broadcast in recent:
        reads[broadcast.pk] = Membership.objects.filter(
            conversation__in=stream, last_read_message_id__gte=broadcast.message_id
        ).count()
    items = BroadcastArticle.objects.filter(broadcast__in=recent).order_by("broadcast_id", "position")
    articles = Article.objects.in_bulk({item.article_id for item in items})
    per_broadcast_articles: dict[int, list[tuple[str, int]]] = {}
    for item in items:
        article = articles.get(item.article_id)
        if article is not None:
            per_broadcast_articles.setdefault(item.broadcast_id, []).append((article.title, article.read_count))
    return {
        "subscribers": series,
        "broadcasts": [
            {
                "broadcast": broadcast,
                "reads": reads[broadcast.pk],
                "articles": per_broadcast_articles.get(broadcast.pk, []),
            }
            for broadcast in recent
        ],
    }
