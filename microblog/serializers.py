"""API shapes for the microblog. Serializers parse and present; services check the rules and write."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.avatars import avatar_url
from accounts.serializers import AVATAR_URL_HELP, UserSummarySerializer, VerificationSerializer
from media.serializers import MediaSerializer
from realtime.models import Event

from .models import Notification, Post, Visibility
from .selectors import posts_by_id, posts_with_media
from .text import MAX_BODY_CHARS


@extend_schema_field({"type": "string", "maxLength": MAX_BODY_CHARS, "description": "Code points, after trimming."})
class BodyField(serializers.CharField):
    """Post text as sent: the service trims it and applies the rules (blank, length, valid Unicode)."""

    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)


ARTICLE_CARD_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "The article the post carries, as a card (GET /api/articles/{id}/ has the whole of it); "
    "null for a post without one (a repost's article is its `original`'s).",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "excerpt": {"type": "string", "description": "Its first words, as plain text."},
        "cover": {"allOf": [{"$ref": "#/components/schemas/Media"}], "nullable": True},
        "read_count": {"type": "integer"},
        "url": {"type": "string", "description": "The reading page, /a/{id}/."},
    },
    "required": ["id", "title", "excerpt", "cover", "read_count", "url"],
}


def article_card(article) -> dict:
    """A post's article as a card (the article app's own serializers sit above microblog)."""
    return {
        "id": article.pk,
        "title": article.title,
        "excerpt": article.excerpt,
        "cover": _MEDIA.to_representation(article.cover) if article.cover_id is not None else None,
        "read_count": article.read_count,
        "url": f"/a/{article.pk}/",
    }


class PostSerializer(serializers.ModelSerializer):
    """A post as its viewer sees it; the viewer flags come from `PostQuerySet.presented_to`."""

    author = UserSummarySerializer(read_only=True)
    reply_to = serializers.IntegerField(source="reply_to_id", read_only=True, allow_null=True)
    repost_of = serializers.IntegerField(source="repost_of_id", read_only=True, allow_null=True)
    original = serializers.IntegerField(source="original_id", read_only=True, allow_null=True)
    # The replies this viewer may see (`PostQuerySet.presented_to`), not every reply there is.
    reply_count = serializers.IntegerField(source="visible_reply_count", read_only=True)
    liked = serializers.BooleanField(source="viewer_liked", read_only=True, default=False)
    reposted = serializers.BooleanField(source="viewer_reposted", read_only=True, default=False)
    bookmarked = serializers.BooleanField(source="viewer_bookmarked", read_only=True, default=False)
    hashtags = serializers.ListField(child=serializers.CharField(), read_only=True)
    mentions = serializers.ListField(child=serializers.CharField(), read_only=True)
    media = serializers.SerializerMethodField(help_text="The post's photos, in order.")
    original_media = serializers.SerializerMethodField(
        help_text="For a repost: the photos of the post it reposts (`original`), in order; empty for other posts "
        "and once the original is deleted."
    )
    article = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = (
            "id",
            "author",
            "body",
            "html",
            "visibility",
            "created_at",
            "reply_to",
            "repost_of",
            "original",
            "like_count",
            "repost_count",
            "reply_count",
            "read_count",
            "liked",
            "reposted",
            "bookmarked",
            "hashtags",
            "mentions",
            "media",
            "original_media",
            "article",
        )
        read_only_fields = fields

    def to_representation(self, post: Post) -> dict:
        # By hand: DRF's per-field machinery (a field object, its source lookup and checks per
        # value) was most of a page's time (~0.4 ms a post). The same shape and values as the
        # declared fields give (tests/microblog/test_presenting.py compares them on every kind of post).
        return post_json(post)

    @staticmethod
    def _with_media(post: Post) -> Post:
        # Lists attach media set-wise (selectors.posts_with_media); a post that came another way, alone.
        if not hasattr(post, "media_items"):
            posts_with_media([post])
        return post

    @extend_schema_field(MediaSerializer(many=True))
    def get_media(self, post: Post) -> list[dict]:
        return MediaSerializer(self._with_media(post).media_items, many=True).data

    @extend_schema_field(ARTICLE_CARD_SCHEMA)
    def get_article(self, post: Post) -> dict | None:
        # Lists join the articles set-wise (selectors.posts_with_media); the post's audience is the article's.
        return article_card(post.article) if post.article_id is not None else None

    @extend_schema_field(MediaSerializer(many=True))
    def get_original_media(self, post: Post) -> list[dict]:
        return MediaSerializer(self._with_media(post).original_media_items, many=True).data


_DATETIME = serializers.DateTimeField()
# One instance for every photo: constructing a ModelSerializer builds its fields (~0.2 ms).
_MEDIA = MediaSerializer()


def media_json(items) -> list[dict]:
    return [_MEDIA.to_representation(item) for item in items] if items else []


def author_json(user) -> dict:
    """UserSummarySerializer's shape, by hand (a post list shows one per post)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": avatar_url(user),
        "verification": user.verification_summary,
    }


def post_json(post: Post) -> dict:
    """A post as PostSerializer presents it (the viewer flags from `presented_to`; media from
    `posts_with_media`, else looked up alone)."""
    if not hasattr(post, "media_items"):
        posts_with_media([post])
    return {
        "id": post.pk,
        "author": author_json(post.author),
        "body": post.body,
        "html": post.html,
        "visibility": post.visibility,
        "created_at": _DATETIME.to_representation(post.created_at),
        "reply_to": post.reply_to_id,
        "repost_of": post.repost_of_id,
        "original": post.original_id,
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": post.visible_reply_count,
        "read_count": post.read_count,
        "liked": bool(getattr(post, "viewer_liked", False)),
        "reposted": bool(getattr(post, "viewer_reposted", False)),
        "bookmarked": bool(getattr(post, "viewer_bookmarked", False)),
        "hashtags": [str(tag) for tag in post.hashtags],
        "mentions": [str(name) for name in post.mentions],
        "media": media_json(post.media_items),
        "original_media": media_json(post.original_media_items),
        "article": article_card(post.article) if post.article_id is not None else None,
    }


class PostCreateSerializer(serializers.Serializer):
    body = BodyField(required=False, default="", help_text="May be empty when the post has media.")
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text="public unless given; a post carrying an article has the article's (and takes it when not given).",
    )
    reply_to = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    article = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="An article of yours (POST /api/articles/), published and in no other post, shown as a card.",
    )
    # Parsed as ids; the rules (how many, whose, ready, unattached) are the service's.
    media = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        help_text=f"Upload ids (POST /api/media/), shown in this order: at most {settings.MEDIA_PER_ITEM}, each "
        "your own, ready and not attached to anything yet.",
    )


class RepostSerializer(serializers.Serializer):
    comment = BodyField(required=False, default="")


class ProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.SerializerMethodField(help_text=AVATAR_URL_HELP)
    bio = serializers.CharField()
    followers_count = serializers.IntegerField()
    following_count = serializers.IntegerField()
    posts_count = serializers.IntegerField()
    is_following = serializers.BooleanField()
    is_contact = serializers.BooleanField()
    verification = serializers.SerializerMethodField(help_text="Their V badge, or null.")

    def get_avatar_url(self, profile) -> str:
        return avatar_url(profile.user)

    @extend_schema_field(VerificationSerializer(allow_null=True))
    def get_verification(self, profile) -> dict | None:
        return profile.user.verification_summary


class FeedItemSerializer(serializers.Serializer):
    post = PostSerializer()
    score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class FeedPageSerializer(serializers.Serializer):
    results = FeedItemSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    restarted = serializers.BooleanField(required=False)


class FeedQuerySerializer(serializers.Serializer):
    order = serializers.ChoiceField(choices=["ranked", "latest", "moments"], default="ranked")
    cursor = serializers.CharField(required=False, max_length=64, default=None)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class TrendSerializer(serializers.Serializer):
    tag = serializers.CharField()
    drivers = serializers.ListField(
        child=serializers.CharField(),
        help_text="Up to 3 usernames whose public posts and reposts under the tag drew the most reads in the "
        "window (people the viewer blocked, muted or is blocked by left out).",
    )
    posts = serializers.IntegerField()
    authors = serializers.IntegerField()
    score = serializers.FloatField()
    why = serializers.CharField()


class SearchResultSerializer(serializers.Serializer):
    posts = PostSerializer(many=True)
    users = UserSummarySerializer(many=True)


class NotificationSerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer(read_only=True)
    post = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ("id", "kind", "actor", "post", "created_at", "read")
        read_only_fields = fields

    @extend_schema_field(PostSerializer(allow_null=True))
    def get_post(self, notification: Notification) -> dict | None:
        post = self.context["posts"].get(notification.post_id)
        return PostSerializer(post).data if post is not None else None


class NotificationsReadSerializer(serializers.Serializer):
    up_to = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


def serialize_notifications(notifications: list[Notification], viewer) -> list[dict]:
    """Notifications with their posts as the viewer may see them now (one query for all posts)."""
    posts = posts_by_id(viewer, [n.post_id for n in notifications if n.post_id is not None])
    return NotificationSerializer(notifications, many=True, context={"posts": posts}).data


def render_notifications(notifications: list[Notification], viewer) -> list[dict]:
    """Frame bodies (`{notification}`) for pushes and replays."""
    return [{"notification": body} for body in serialize_notifications(notifications, viewer)]


def render_notification_events(events: list[Event], viewer) -> list[dict]:
    """The replay renderer for "notification" events, registered in `MicroblogConfig.ready`."""
    ids = [event.ref.get("notification") for event in events]
    notifications = Notification.objects.select_related("actor__avatar").filter(pk__in=ids, recipient_id=viewer.pk)
    found = {n.pk: n for n in notifications}
    bodies = dict(zip(found, render_notifications(list(found.values()), viewer), strict=True))
    return [bodies.get(notification_id, {"notification": None}) for notification_id in ids]
