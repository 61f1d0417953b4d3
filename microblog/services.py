"""Writes for the microblog: posting, replying, reposting, likes, bookmarks, follows, mutes.

The API views and the browser pages both call these, and these own every rule: each takes
the acting user and checks what it needs (the body, that the actor may see the post, that
only its author deletes it), raising a `MicroblogError` (or `NotFound`) that the API and the
pages map once. Serializers and forms only parse.

Each write and the notifications it causes share one transaction (mentions aside: they fan
out after commit, in bulk and capped); the notification pushes go out through
`realtime.services.events_publish`, which sends them only after commit.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import limits
from accounts.models import User
from accounts.selectors import is_blocked_between, people_hidden_from
from common.errors import NotFound, ServiceError
from common.text import is_blank
from media.attach import media_attach, media_claim, media_detach
from media.models import Media
from realtime.presence import online_among
from realtime.services import Publication, ephemeral_send, events_publish, events_publish_many

from . import text
from .models import (
    Bookmark,
    Follow,
    Hashtag,
    Like,
    Mute,
    Notification,
    Post,
    PostAncestor,
    PostMention,
    PostTag,
    Visibility,
)
from .ranking.candidates import viewer_inputs_forget
from .selectors import can_see, feed_followers_seeing, is_muting, people_seeing, post_visible, posts_with_media
from .serializers import NotificationSerializer, render_notifications
from .signals import post_changed_on_commit

NOTIFICATION_EVENT = "notification"
FEED_NEW_EVENT = "feed.new"


class MicroblogError(ServiceError):
    """A write that the rules refuse (400 with this message unless a status is given)."""

    def __init__(self, detail: str, *, code: str = "invalid", status: int = 400):
        super().__init__(code, detail, status)


def _body_clean(body: str, *, required: bool) -> str:
    """The body as stored (trimmed, NFC), or a refusal: the one rule for posts, replies and comments.

    Invisible-only text (whitespace, zero-width, bidi controls, lone marks) counts as blank.
    Lengths are code points, counted after trimming.
    """
    if text.has_surrogates(body):
        raise MicroblogError("Text must be valid Unicode.", code="invalid_text")
    body = text.normalize(body.strip())
    if is_blank(body):
        if required:
            raise MicroblogError("Write something: a post cannot be blank.", code="blank")
        return ""
    if len(body) > text.MAX_BODY_CHARS:
        raise MicroblogError(f"Posts are limited to {text.MAX_BODY_CHARS} characters.", code="too_long")
    return body


def _visible(actor, post: Post | int) -> Post:
    """`post` (or its id) as `actor` may see it now; NotFound alike for missing, deleted and hidden."""
    found = post_visible(actor, post.pk if isinstance(post, Post) else post)
    if found is None:
        raise NotFound()
    return found


def _mentioned_users(candidates: list[str]) -> list[User]:
    if not candidates:
        return []
    users = {
        user.username.lower(): user
        for user in User.objects.annotate(lower=Lower("username")).filter(lower__in=candidates, is_active=True)
    }
    return [users[name] for name in candidates if name in users]


def _post_make(
    *,
    author: User,
    body: str,
    visibility: str,
    reply_to: Post | None = None,
    repost_of: Post | None = None,
) -> tuple[Post, list[User]]:
    """Stores a post (its body already clean) with its rendered HTML, tags, mentions and ancestor links."""
    tokens = text.tokenize(body)
    mentioned = _mentioned_users(text.mention_candidates(tokens))
    tags = text.hashtags(tokens)
    parent = reply_to or repost_of
    post = Post.objects.create(
        author=author,
        fully_public=visibility == Visibility.PUBLIC and (parent is None or parent.fully_public),
        body=body,
        html=text.render_html(tokens, {user.username.lower(): user.username for user in mentioned}),
        visibility=visibility,
        reply_to=reply_to,
        repost_of=repost_of,
        original=(repost_of.original or repost_of) if repost_of else None,
        hashtags=tags,
        mentions=[user.username for user in mentioned],
    )
    if parent is not None:
        is_repost = repost_of is not None
        links = [PostAncestor(post=post, ancestor=parent, depth=1, via_repost=is_repost)]
        links += [
            PostAncestor(post=post, ancestor_id=ancestor_id, depth=depth + 1, via_repost=is_repost and via_repost)
            for ancestor_id, depth, via_repost in PostAncestor.objects.filter(post=parent).values_list(
                "ancestor_id", "depth", "via_repost"
            )
        ]
        PostAncestor.objects.bulk_create(links)
    if tags:
        Hashtag.objects.bulk_create([Hashtag(name=name) for name in tags], ignore_conflicts=True)
        tag_ids = Hashtag.objects.filter(name__in=tags).values_list("pk", flat=True)
        PostTag.objects.bulk_create([PostTag(post=post, hashtag_id=tag_id) for tag_id in tag_ids])
    if mentioned:
        PostMention.objects.bulk_create([PostMention(post=post, user=user) for user in mentioned])
    return post, mentioned


def _mentions_notify_on_commit(post: Post, mentioned: list[User], *, already: set[int]) -> None:
    """Notifies the first MENTIONS_NOTIFIED_PER_POST people a post mentions, after commit, in bulk.

    Every @name stays a link; only the first few in the order written may notify, so one post
    cannot page hundreds of people, and the write's transaction pays for none of it.
    """
    candidates = [user.pk for user in mentioned if user.pk not in already and user.pk != post.author_id]
    candidates = candidates[: settings.MENTIONS_NOTIFIED_PER_POST]
    if candidates:
        # robust: the post is stored either way; a failed fan-out must not turn it into an error.
        transaction.on_commit(lambda: _mentions_notify(post, candidates), robust=True)


def _mentions_notify(post: Post, candidate_ids: list[int]) -> list[Notification]:
    """The same rules as `notification_create`, set-wise (a fixed handful of queries), plus a budget:
    mentions of people who do not follow the author count against the author's
    MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR (past it they stay links and notify nobody)."""
    author_id = post.author_id
    muters = Mute.objects.filter(muted_id=author_id).values("user_id")
    people = {
        user.pk: user
        for user in User.objects.filter(pk__in=candidate_ids, is_active=True)
        .exclude(pk__in=people_hidden_from([author_id]))
        .exclude(pk__in=muters)
    }
    seeing = people_seeing(post, people)
    followers = set(
        Follow.objects.filter(followee_id=author_id, follower_id__in=seeing).values_list("follower_id", flat=True)
    )
    recipients = []
    for user_id in candidate_ids:  # in the order written: the budget goes to the first named
        if user_id not in seeing:
            continue
        if user_id not in followers and _stranger_budget_spent(author_id):
            continue
        recipients.append(people[user_id])
    if not recipients:
        return []
    # A post this new has no likes, reposts or replies by anyone yet: one rendering serves every recipient.
    presented = {post.pk: posts_with_media([Post.objects.presented_to(None).get(pk=post.pk)])[0]}
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [
                Notification(recipient=user, actor=post.author, kind=Notification.Kind.MENTION, post=post)
                for user in recipients
            ]
        )
        bodies = NotificationSerializer(notifications, many=True, context={"posts": presented}).data
        events_publish_many(
            [
                Publication([n.recipient_id], NOTIFICATION_EVENT, {"notification": n.pk}, {"notification": body})
                for n, body in zip(notifications, bodies, strict=True)
            ]
        )
    return notifications


def _stranger_budget_spent(author_id: int) -> bool:
    """Counts one mention notification to someone who does not follow the author; True past the hourly budget."""
    spent = limits.take(
        "mention-strangers",
        str(author_id),
        limit=settings.MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR,
        window=timedelta(hours=1),
    )
    return spent is not None


def _feed_announce(post: Post) -> None:
    """Tells the author's online followers who may see `post` that their feed has something new.

    A light frame, not stored and without seq (a missed one costs nothing: the feed is
    there on reload). Only followers with a socket open get it, so a post by someone
    with many followers costs reads (their ids, their socket counters), not a write each.
    """
    audience = online_among(feed_followers_seeing(post).values_list("follower_id", flat=True))
    if audience:
        frame = {"type": FEED_NEW_EVENT, "post": post.pk, "author": post.author.username}
        ephemeral_send(user_ids=audience, frame=frame)


def _feed_announce_on_commit(post: Post) -> None:
    # robust: the post is stored either way; a failed announcement must not turn it into an error.
    transaction.on_commit(lambda: _feed_announce(post), robust=True)


@transaction.atomic
def post_create(
    *,
    author: User,
    body: str,
    visibility: str | None = Visibility.PUBLIC,
    reply_to: Post | int | None = None,
    media: list[int] | None = None,
    article: int | None = None,
) -> Post:
    """A new post by `author`, or a reply when `reply_to` (a post or its id) is given, with the
    uploads `media` (ids, shown in that order) as its photos, and the article `article` (an id) as a card.

    Refuses a too long body, a blank one unless there are photos, an unknown visibility, a reply
    to a post the author may not see (400, the same as one that does not exist: it is a field of
    the request), and photos media.attach refuses (more than MEDIA_PER_ITEM, someone else's,
    already attached, not processed yet): then nothing is stored, and the uploads stay unattached.
    """
    media = media or []
    body = _body_clean(body, required=not media and article is None)
    carried = _article_to_carry(author, article, visibility) if article is not None else None
    if visibility is None:
        visibility = carried.visibility if carried is not None else Visibility.PUBLIC
    if visibility not in Visibility.values:
        raise MicroblogError("Choose public, followers or contacts.", code="invalid_visibility")
    if reply_to is not None:
        reply_to = post_visible(author, reply_to.pk if isinstance(reply_to, Post) else reply_to)
        if reply_to is None:
            raise MicroblogError("The post to reply to was not found.", code="reply_to_not_found")
    photos = media_claim(owner=author, ids=media, kind=Media.AttachedKind.POST) if media else []
    post, mentioned = _post_make(author=author, body=body, visibility=visibility, reply_to=reply_to)
    if carried is not None:
        post.article = carried
        post.save(update_fields=["article"])
    if photos:
        media_attach(photos, kind=Media.AttachedKind.POST, target_id=post.pk)
    notified: set[int] = set()
    if reply_to is not None:
        Post.objects.filter(pk=reply_to.pk).update(reply_count=F("reply_count") + 1)
        post_changed_on_commit([reply_to.pk])
        notification_create(recipient=reply_to.author, actor=author, kind=Notification.Kind.REPLY, post=post)
        notified.add(reply_to.author_id)
    _mentions_notify_on_commit(post, mentioned, already=notified)
    _feed_announce_on_commit(post)
    viewer_inputs_forget(author.pk)
    return post


def _article_to_carry(author: User, article_id, visibility: str | None):
    """The article a new post is to carry: the author's own, published, carried by no other post, and
    shown to the audience it was written for (the post takes its visibility when none is asked).
    Anything else is refused alike (400): whether someone else's article exists is not told."""
    articles = Post._meta.get_field("article").related_model.objects  # by name: articles sits above microblog
    found = (
        articles.select_for_update().filter(pk=article_id, author_id=author.pk, status="published").first()
        if isinstance(article_id, int) and 0 < article_id < 2**63
        else None
    )
    if found is None:
        raise MicroblogError("The article was not found: publish it first.", code="article_not_found")
    if Post.objects.filter(article_id=found.pk).exists():
        raise MicroblogError("That article is already in a post.", code="article_in_use")
    if visibility is not None and visibility != found.visibility:
        raise MicroblogError(
            f"The article is for {found.visibility}: a post carrying it has the same visibility.",
            code="article_visibility",
        )
    return found


def _plain_repost(author: User, post: Post) -> Post | None:
    return Post.objects.filter(author=author, repost_of=post, body="", deleted_at__isnull=True).first()


def post_repost(*, author: User, post: Post | int, comment: str = "") -> tuple[Post, bool]:
    """`author` reposts `post` (a post or its id; public only) with an optional comment; returns (repost, created).

    A post the author may not see is NotFound. Without a comment (an invisible-only one is
    none), reposting the same post again gives back the first repost (a partial unique
    constraint makes that hold under races too). Every post of the chain above counts the
    new repost.
    """
    post = _visible(author, post)
    comment = _body_clean(comment, required=False)
    if not post.fully_public:
        raise MicroblogError("Only public posts can be reposted.", code="not_public")
    if not comment:
        existing = _plain_repost(author, post)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            repost, mentioned = _post_make(author=author, body=comment, visibility=Visibility.PUBLIC, repost_of=post)
            chain = PostAncestor.objects.filter(post=repost, via_repost=True).values_list("ancestor_id", flat=True)
            Post.objects.filter(pk__in=chain).update(repost_count=F("repost_count") + 1)
            post_changed_on_commit(list(chain))
            notified = {post.author_id}
            notification_create(recipient=post.author, actor=author, kind=Notification.Kind.REPOST, post=repost)
            root = repost.original
            if root is not None and root.author_id not in notified:
                notification_create(recipient=root.author, actor=author, kind=Notification.Kind.REPOST, post=repost)
                notified.add(root.author_id)
            _mentions_notify_on_commit(repost, mentioned, already=notified)
            _feed_announce_on_commit(repost)
            viewer_inputs_forget(author.pk)
    except IntegrityError:
        existing = _plain_repost(author, post)
        if existing is None:
            raise
        return existing, False
    return repost, True


@transaction.atomic
def post_delete(*, actor: User, post: Post | int) -> None:
    """`actor` deletes their post: it is emptied and marked deleted, its photos detached; what answers
    or reposts it shows "deleted".

    NotFound when the actor may not see the post (or it is gone); 403 `not_author` when they
    may see it but it is someone else's.
    """
    post = _visible(actor, post)
    if post.author_id != actor.pk:
        raise MicroblogError("Only the author may delete a post.", code="not_author", status=403)
    emptied = Post.objects.filter(pk=post.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), body="", html="", hashtags=[], mentions=[], article=None
    )
    if not emptied:
        return
    changed = [post.pk, post.reply_to_id]
    if post.reply_to_id is not None:
        Post.objects.filter(pk=post.reply_to_id).update(reply_count=F("reply_count") - 1)
    if post.repost_of_id is not None:
        chain = PostAncestor.objects.filter(post=post, via_repost=True).values_list("ancestor_id", flat=True)
        Post.objects.filter(pk__in=chain).update(repost_count=F("repost_count") - 1)
        changed += list(chain)
    post_changed_on_commit(changed)
    viewer_inputs_forget(actor.pk)
    PostTag.objects.filter(post=post).delete()
    PostMention.objects.filter(post=post).delete()
    # Its photos go with it: served to nobody from now on (reposts showed them as the original's).
    media_detach(kind=Media.AttachedKind.POST, ids=[post.pk])


def _insert_once(model, **fields) -> bool:
    """Inserts the row unless it exists; True when this call inserted it (race-safe)."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def post_like(*, user: User, post: Post | int) -> bool:
    post = _visible(user, post)
    if not _insert_once(Like, user=user, post=post):
        return False
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    post_changed_on_commit([post.pk])
    viewer_inputs_forget(user.pk)
    notification_create(recipient=post.author, actor=user, kind=Notification.Kind.LIKE, post=post, once=True)
    return True


@transaction.atomic
def post_unlike(*, user: User, post: Post | int) -> bool:
    post = _visible(user, post)
    removed, _ = Like.objects.filter(user=user, post=post).delete()
    if removed:
        Post.objects.filter(pk=post.pk).update(like_count=F("like_count") - 1)
        post_changed_on_commit([post.pk])
        viewer_inputs_forget(user.pk)
    return bool(removed)


def post_bookmark(*, user: User, post: Post | int) -> bool:
    post = _visible(user, post)
    return _insert_once(Bookmark, user=user, post=post)


def post_unbookmark(*, user: User, post: Post | int) -> bool:
    post = _visible(user, post)
    removed, _ = Bookmark.objects.filter(user=user, post=post).delete()
    return bool(removed)


@transaction.atomic
def user_follow(*, follower: User, followee: User) -> bool:
    if follower.pk == followee.pk:
        raise MicroblogError("You cannot follow yourself.")
    if is_blocked_between(follower, followee):
        raise MicroblogError("You cannot follow this user.")
    if not _insert_once(Follow, follower=follower, followee=followee):
        return False
    viewer_inputs_forget(follower.pk)
    notification_create(recipient=followee, actor=follower, kind=Notification.Kind.FOLLOW, once=True)
    return True


def user_unfollow(*, follower: User, followee: User) -> bool:
    removed, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    if removed:
        viewer_inputs_forget(follower.pk)
    return bool(removed)


def user_mute(*, user: User, muted: User) -> bool:
    if user.pk == muted.pk:
        raise MicroblogError("You cannot mute yourself.")
    return _insert_once(Mute, user=user, muted=muted)


def user_unmute(*, user: User, muted: User) -> bool:
    removed, _ = Mute.objects.filter(user=user, muted=muted).delete()
    return bool(removed)


def notification_create(
    *, recipient: User, actor: User, kind: str, post: Post | None = None, once: bool = False
) -> Notification | None:
    """Stores a notification and publishes it to the recipient's sockets after commit.

    Nobody is notified of their own acts, across a block, by someone they muted,
    or about a post they may not see. `once` skips a repeat (like, unlike, like).
    """
    if recipient.pk == actor.pk or not recipient.is_active:
        return None
    if is_blocked_between(recipient, actor) or is_muting(recipient, actor):
        return None
    if post is not None and not can_see(recipient, post):
        return None
    if once and Notification.objects.filter(recipient=recipient, actor=actor, kind=kind, post=post).exists():
        return None
    notification = Notification.objects.create(recipient=recipient, actor=actor, kind=kind, post=post)
    events_publish(
        user_ids=[recipient.pk],
        event_type=NOTIFICATION_EVENT,
        ref={"notification": notification.pk},
        frame=render_notifications([notification], recipient)[0],
    )
    return notification


def notifications_mark_read(*, user: User, up_to: int | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read=False)
    if up_to is not None:
        unread = unread.filter(pk__lte=up_to)
    return unread.update(read=True)
