"""Posts, reposts, replies, likes, bookmarks, hashtags, follows, mutes and notifications.

Who may see a post is decided in one place, `PostQuerySet.visible_to(viewer)`, and
every surface (detail, lists, search, tags, notifications) starts from it.

A post is only soft-deleted: its row stays (emptied) so that replies and reposts
can still show "deleted" where it was, and so that the visibility of what hangs
off it keeps following its author's choice and blocks.

Set-wise mirrors of the rule. Some surfaces ask it for many people or many rows at
once, and restate it rather than run `visible_to` once per person. Each has a test that
compares it with the per-viewer rule; change the rule, and those tests say which mirror
must follow:
- `selectors.feed_followers_seeing(post)`: followers who would find a post in their feed
  (`visible_to` + `not_muted_by`), for `feed.new`;
- `selectors.people_seeing(post, ids)`: who among some people may see a post (`visible_to`),
  for mention notifications.
  Both: tests/microblog/test_visibility.py::test_the_feed_news_audience_matches_each_followers_own_view
  (every visibility, a reply, a repost chain, blocks, a mute of the original's author).
- `selectors.visible_pairs(viewers, ids)`: (post, viewer) pairs for live chat cards, a UNION of
  each viewer's `visible_to`: test_visibility.py::test_visibility_for_many_viewers_at_once_matches_each_viewers_own.
- `visible_reply_count(viewer)` (in `presented_to`) and `selectors.visible_reply_counts`: the
  replies a viewer would find in a thread (`post_replies`), counted per row:
  tests/microblog/test_reply_counts.py::test_the_post_api_counts_the_replies_the_viewer_can_read
  and ::test_many_readers_get_each_their_own_count_in_one_query.
- `Post.fully_public`, stored at creation (public, and so is everything above):
  test_visibility.py::test_a_public_reply_deep_in_a_followers_only_thread_stays_in_that_circle.
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts.models import Contact
from accounts.selectors import people_hidden_from


class Visibility(models.TextChoices):
    PUBLIC = "public"
    FOLLOWERS = "followers"
    CONTACTS = "contacts"


def _audience_q(viewer, prefix: str = "") -> Q:
    """Posts (or, with a prefix, related posts) whose audience includes `viewer`, blocks aside."""
    public = Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    if viewer is None or not viewer.is_authenticated:
        return public
    author = f"{prefix}author_id"
    following = Follow.objects.filter(follower_id=viewer.pk).values("followee_id")
    contacts = Contact.objects.filter(user_id=viewer.pk).values("contact_id")
    audience = (
        public
        | Q(**{author: viewer.pk})
        | Q(**{f"{prefix}visibility": Visibility.FOLLOWERS, f"{author}__in": following})
        | Q(**{f"{prefix}visibility": Visibility.CONTACTS, f"{author}__in": contacts})
    )
    return audience & ~Q(**{f"{author}__in": people_hidden_from([viewer.pk])})


def visible_reply_count(viewer):
    """How many replies to the outer post `viewer` would find in its thread (`post_replies`), per row.

    The set-wise mirror of `visible_to(viewer).not_muted_by(viewer).filter(reply_to=post)` for a post
    the viewer may see: then every post above a reply (the post and its own ancestors) already
    admits the viewer, so only the reply's own audience, blocks, deletion and mutes are left to check.
    The audience is `_audience_q`'s, looked up per reply on the follow and contact indexes: as
    lists, the viewer's follows and contacts were rebuilt for every post of a page.
    """
    replies = Post.objects.filter(reply_to_id=OuterRef("pk"), deleted_at__isnull=True)
    if viewer is None or not viewer.is_authenticated:
        replies = replies.filter(visibility=Visibility.PUBLIC)
    else:
        follows = Follow.objects.filter(follower_id=viewer.pk, followee_id=OuterRef("author_id"))
        contacts = Contact.objects.filter(user_id=viewer.pk, contact_id=OuterRef("author_id"))
        replies = replies.filter(
            Q(visibility=Visibility.PUBLIC)
            | Q(author_id=viewer.pk)
            | Q(Exists(follows), visibility=Visibility.FOLLOWERS)
            | Q(Exists(contacts), visibility=Visibility.CONTACTS)
        ).exclude(author_id__in=people_hidden_from([viewer.pk]))
        replies = replies.exclude(author_id__in=Mute.objects.filter(user_id=viewer.pk).values("muted_id"))
    counted = replies.order_by().values("reply_to_id").annotate(count=Count("pk")).values("count")
    # `reply_count` counts every alive reply, so none stored means none visible: most posts have
    # no replies, and for them the subquery is not run at all. (When no post in the table has a
    # reply, SQLite's statistics call the reply_to index useless and the subquery scans the table:
    # ~50 ms a post at 100k posts.)
    return Case(
        When(reply_count=0, then=Value(0)),
        default=Coalesce(Subquery(counted, output_field=IntegerField()), 0),
        output_field=IntegerField(),
    )


class PostQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def public(self):
        """Posts for the public surfaces: public themselves and everything above them public too."""
        return self.filter(fully_public=True)

    def visible_to(self, viewer):
        """Posts `viewer` (None or anonymous: a visitor) may see.

        A post is visible when it is not deleted, its own audience holds the viewer,
        and so does the audience of every post above it (the posts it replies to and
        the repost chain it belongs to, deleted or not): a reply to a followers-only
        post stays among those followers, a block hides everything hanging off the
        blocked person's posts.
        """
        hidden_above = PostAncestor.objects.filter(post_id=OuterRef("pk")).exclude(_audience_q(viewer, "ancestor__"))
        return self.alive().filter(_audience_q(viewer)).exclude(Exists(hidden_above))

    def not_muted_by(self, viewer):
        """Drops posts by authors the viewer muted, and reposts of their posts."""
        if viewer is None or not viewer.is_authenticated:
            return self
        muted = Mute.objects.filter(user_id=viewer.pk).values("muted_id")
        return self.exclude(author_id__in=muted).exclude(original__author_id__in=muted)

    def presented_to(self, viewer):
        """With the author and their avatar (every payload shows its URL), the viewer's own liked /
        reposted / bookmarked flags and the replies the viewer may see (`visible_reply_count`), in one
        query. For posts the viewer may see."""
        posts = self.select_related("author__avatar").annotate(visible_reply_count=visible_reply_count(viewer))
        if viewer is None or not viewer.is_authenticated:
            false = Value(False, output_field=models.BooleanField())
            return posts.annotate(viewer_liked=false, viewer_reposted=false, viewer_bookmarked=false)
        return posts.annotate(
            viewer_liked=Exists(Like.objects.filter(post_id=OuterRef("pk"), user_id=viewer.pk)),
            viewer_bookmarked=Exists(Bookmark.objects.filter(post_id=OuterRef("pk"), user_id=viewer.pk)),
            viewer_reposted=Exists(
                Post.objects.filter(repost_of_id=OuterRef("pk"), author_id=viewer.pk, deleted_at__isnull=True)
            ),
        )


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    # Public, and so is every post above it: a public reply to a followers-only post is not
    # for the public timeline, search or trending. Fixed at creation, as visibility is.
    fully_public = models.BooleanField(default=True)
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    repost_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reposts")
    original = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A long-form article the post carries as a card (its author's own, published, with the
    # post's audience); one post per article, so its likes and reposts are the article's.
    # By name: articles sits above microblog (docs/architecture.md).
    article = models.OneToOneField(
        "articles.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="carrying_post"
    )
    # Posts are never edited, so their tags and mentions are kept with them for display;
    # PostTag and PostMention rows serve the queries.
    hashtags = models.JSONField(default=list, blank=True)
    mentions = models.JSONField(default=list, blank=True)
    like_count = models.IntegerField(default=0)
    repost_count = models.IntegerField(default=0)
    # Every alive reply, whoever may see it: a ranking signal, never shown. People are shown
    # `visible_reply_count` (`PostQuerySet.presented_to`), the replies they may see.
    reply_count = models.IntegerField(default=0)
    # Distinct signed-in people (author aside) it was shown to: the PostRead rows, folded in batches
    # (microblog.reads), never written on a page view.
    read_count = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["author", "-id"], name="microblog_post_author_id"),
            models.Index(fields=["fully_public", "-id"], name="microblog_post_public_id"),
        ]
        constraints = [
            # Reposting the same post twice without a comment gives back the first repost.
            models.UniqueConstraint(
                fields=["author", "repost_of"],
                condition=Q(body="", deleted_at__isnull=True, repost_of__isnull=False),
                name="microblog_one_plain_repost",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} by {self.author_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostAncestor(models.Model):
    """Every post above a post: what it replies to, what it reposts, and theirs, transitively.

    Written once when the post is made (posts never move). It lets one query check
    every ancestor's audience, and count reposts along a chain: `via_repost` is true
    when the path up to the ancestor is made of reposts only.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="ancestor_links")
    ancestor = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="descendant_links")
    depth = models.PositiveIntegerField()
    via_repost = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "ancestor"], name="microblog_ancestor_unique")]
        indexes = [models.Index(fields=["ancestor", "via_repost"], name="microblog_ancestor_chain")]


class Hashtag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"#{self.name}"


class PostTag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="tag_links")
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="post_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hashtag", "post"], name="microblog_posttag_unique")]


class PostMention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mention_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="microblog_postmention_unique")]


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="microblog_like_unique")]
        # The feed reads what followed people (and the viewer) liked lately; with the post in the
        # index that read never touches the table (a quarter of the feed's SQL time at 1M posts).
        indexes = [models.Index(fields=["user", "created_at", "post"], name="microblog_like_user_time_post")]


class Bookmark(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="microblog_bookmark_unique")]


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_links")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="microblog_follow_unique"),
            models.CheckConstraint(condition=~Q(follower=models.F("followee")), name="microblog_follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "-id"], name="microblog_follow_followee")]


class Mute(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "muted"], name="microblog_mute_unique"),
            models.CheckConstraint(condition=~Q(user=models.F("muted")), name="microblog_mute_not_self"),
        ]


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention"
        REPLY = "reply"
        REPOST = "repost"
        LIKE = "like"
        FOLLOW = "follow"
        # About the recipient's own badge (accounts.Verification); the actor is the recipient.
        VERIFIED = "verified"
        REFUSED = "refused"
        UNVERIFIED = "unverified"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-id"], name="microblog_notification_inbox"),
            models.Index(fields=["recipient", "read"], name="microblog_notification_unread"),
        ]


class PostRead(models.Model):
    """One person shown one post, once (the first time, to within a fold's batching).

    Written only by `microblog.reads` folds, in bulk; `Post.read_count` is their count.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="microblog_postread_unique")]
        # Reach over time (per post) and 30-day reads (per post, by time).
        indexes = [models.Index(fields=["post", "created_at"], name="microblog_postread_post_time")]
