"""Reads for the microblog. Every list of posts starts from `posts_visible(viewer)`.

Each selector returns a QuerySet shaped for its page (author joined, viewer flags
annotated), so a page of any list costs the same few queries however long it is.
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Value

from accounts.models import Contact, User
from accounts.selectors import are_contacts, is_blocked_between, people_hidden_from
from common.prepared import Prepared
from media import access
from media.selectors import media_for

from .models import (
    Follow,
    Hashtag,
    Mute,
    Notification,
    Post,
    PostAncestor,
    PostQuerySet,
    Visibility,
    visible_reply_count,
)
from .text import tag_name

# Viewers checked per query by `visible_pairs` (SQLite allows 500 terms in a compound SELECT).
VIEWERS_PER_QUERY = 200


def _signed_in(viewer) -> bool:
    return viewer is not None and viewer.is_authenticated


def posts_visible(viewer) -> PostQuerySet:
    """The one definition of "posts this viewer may see" (anonymous: public only)."""
    return Post.objects.visible_to(viewer)


def post_visible(viewer, post_id) -> Post | None:
    """The post if it exists and the viewer may see it; None alike for both other cases."""
    try:
        post_id = int(post_id)
    except (TypeError, ValueError):
        return None
    if not 0 < post_id < 2**63:
        return None
    return posts_visible(viewer).presented_to(viewer).filter(pk=post_id).first()


def _storable(text: str) -> bool:
    """PostgreSQL refuses NUL in a string literal: such input cannot match anything stored."""
    return "\x00" not in text


def user_visible(viewer, username: str) -> User | None:
    """An active user by name, unless a block stands between them and the viewer."""
    if not _storable(username):
        return None
    user = User.objects.filter(username__iexact=username, is_active=True).select_related("avatar").first()
    if user is None or (_signed_in(viewer) and user.pk != viewer.pk and is_blocked_between(viewer, user)):
        return None
    return user


def _surface(viewer) -> PostQuerySet:
    """Visible posts for the shared surfaces (timelines, tags, search): muted authors left out."""
    return posts_visible(viewer).not_muted_by(viewer).presented_to(viewer)


def _by_network(viewer) -> Q:
    following = Follow.objects.filter(follower_id=viewer.pk).values("followee_id")
    return Q(author_id__in=following) | Q(author_id=viewer.pk)


def feed_latest(viewer) -> PostQuerySet:
    """Posts by the people the viewer follows and by the viewer, newest first."""
    return _surface(viewer).filter(_by_network(viewer)).order_by("-id")


def feed_latest_ids(viewer, *, before: int | None, count: int) -> list[int]:
    """The newest `count` post ids (below `before`) by the people the viewer follows and the viewer.

    Read on the (author, id) index alone, visibility unchecked: a page of Latest then checks
    visibility on these few posts, not on everything its authors ever wrote (which made the
    page's cost grow with the corpus: 40 ms at 1M posts on SQLite).
    """
    if connection.vendor == "postgresql" and _follows_few(viewer.pk):
        return _newest_ids_by_author(viewer.pk, before=before, count=count)
    if before is None:
        return _newest_ids(count=count, below=False)(viewer.pk)
    return _newest_ids(count=count, below=True)(viewer.pk, before)


# Below this share of everyone, the people a viewer follows are "few" (`_follows_few`).
FEW_FOLLOWED_SHARE = 0.01


def _follows_few(viewer_id: int) -> bool:
    """PostgreSQL: whether the viewer follows under FEW_FOLLOWED_SHARE of everyone (the planner's
    estimate of the number of accounts). Then Latest walks each person's posts
    (`_newest_ids_by_author`); else the primary key walked backwards meets their posts often enough
    (at 5,000 followed of 50,000 people, 1.9 ms against 44 ms for 5,000 walks)."""
    sql = f"""
        SELECT (SELECT count(*) FROM {Follow._meta.db_table} WHERE follower_id = %s)
            < %s * (SELECT reltuples FROM pg_class WHERE oid = %s::regclass)
    """  # noqa: S608 (table names from the models; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer_id, FEW_FOLLOWED_SHARE, User._meta.db_table])
        return bool(cursor.fetchone()[0])


def _newest_ids_by_author(viewer_id: int, *, before: int | None, count: int) -> list[int]:
    """PostgreSQL, for a viewer who follows few (`_follows_few`): `feed_latest_ids` as one short walk
    of the (author, -id) index per person (at most `count` entries each), merged. Given the follows
    as `IN (subquery)`, the planner expected half the table to match and walked the primary key
    backwards until it had `count` of them: as many posts as the corpus holds per followed post
    (41,000 rows at 1M posts, 5.3 ms, against 0.5 ms at 100k), where these walks read ~17 entries
    per person whatever the corpus (~1.7 ms)."""
    below = "AND post.id < %(before)s" if before is not None else ""
    sql = f"""
        SELECT newest.id FROM (
            SELECT followee_id AS author_id FROM {Follow._meta.db_table} WHERE follower_id = %(viewer)s
            UNION SELECT %(viewer)s
        ) AS network
        CROSS JOIN LATERAL (
            SELECT post.id FROM {Post._meta.db_table} AS post
            WHERE post.author_id = network.author_id {below}
            ORDER BY post.id DESC LIMIT %(count)s
        ) AS newest
        ORDER BY newest.id DESC LIMIT %(count)s
    """  # noqa: S608 (table names from the models; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"viewer": viewer_id, "before": before, "count": count})
        return [pk for (pk,) in cursor.fetchall()]


@cache
def _newest_ids(*, count: int, below: bool) -> Prepared:
    """`feed_latest_ids`'s query, built once for each count (its LIMIT) and each shape (asked on
    every page of Latest: building it cost several times running it)."""

    def build(viewer_id: int, *before: int):
        ids = Post.objects.filter(_by_network(User(pk=viewer_id)))
        if below:
            ids = ids.filter(id__lt=before[0])
        return ids.order_by("-id").values_list("id", flat=True)[:count]

    return Prepared(build)


def feed_moments(viewer) -> PostQuerySet:
    """Moments: contacts-only posts by the viewer's chat contacts and by the viewer, newest first.

    Replies stay in their threads, as on a profile. Blocks and mutes apply as on every surface.
    """
    contacts = Contact.objects.filter(user_id=viewer.pk).values("contact_id")
    return (
        _surface(viewer)
        .filter(visibility=Visibility.CONTACTS, reply_to__isnull=True)
        .filter(Q(author_id__in=contacts) | Q(author_id=viewer.pk))
        .order_by("-id")
    )


def _chain(post: Post) -> list[tuple[int, int, str]]:
    """(id, author id, visibility) of the post and of every post above it."""
    above = PostAncestor.objects.filter(post=post).values_list(
        "ancestor_id", "ancestor__author_id", "ancestor__visibility"
    )
    return [(post.pk, post.author_id, post.visibility), *above]


def _seeing(chain, rows: QuerySet, person: str) -> QuerySet:
    """`rows` kept where `person` (a user-id field) is in the audience of every post of `chain`, no block between."""
    for _, author_id, visibility in chain:
        if visibility == Visibility.FOLLOWERS:
            audience = Follow.objects.filter(followee_id=author_id).values("follower_id")
            rows = rows.filter(Q(**{person: author_id}) | Q(**{f"{person}__in": audience}))
        elif visibility == Visibility.CONTACTS:
            audience = Contact.objects.filter(contact_id=author_id).values("user_id")
            rows = rows.filter(Q(**{person: author_id}) | Q(**{f"{person}__in": audience}))
    authors = {author_id for _, author_id, _ in chain}
    return rows.exclude(**{f"{person}__in": people_hidden_from(authors)})


def people_seeing(post: Post, user_ids) -> set[int]:
    """Those among `user_ids` who may see `post` (alive): `visible_to` for one post, set-wise, in one query."""
    return set(_seeing(_chain(post), User.objects.filter(pk__in=list(user_ids)), "pk").values_list("pk", flat=True))


def feed_followers_seeing(post: Post) -> QuerySet[Follow]:
    """The follows of `post`'s author whose follower would find the post in their feed.

    The set-wise mirror of `visible_to(viewer).not_muted_by(viewer)` for one post: the
    audience of the post and of every post above it (a reply's thread, a repost's
    chain), no block either way with any of their authors, no mute of the author or of
    the original's. A fixed handful of subqueries, one round trip, whatever the count.
    """
    chain = _chain(post)
    muted = {author_id for post_id, author_id, _ in chain if post_id in (post.pk, post.original_id)}
    muters = Mute.objects.filter(muted_id__in=muted).values("user_id")
    return _seeing(chain, Follow.objects.filter(followee_id=post.author_id), "follower_id").exclude(
        follower_id__in=muters
    )


def public_timeline(viewer) -> PostQuerySet:
    return _surface(viewer).public().order_by("-id")


def tag_posts(viewer, tag: str) -> PostQuerySet:
    if not _storable(tag):
        return _surface(viewer).none()
    hashtag = Hashtag.objects.filter(name=tag_name(tag)).values("pk")
    return _surface(viewer).filter(tag_links__hashtag_id__in=hashtag).order_by("-id")


def user_posts(viewer, author: User) -> PostQuerySet:
    """A profile's posts and reposts (replies stay in their threads), as the viewer may see them."""
    return posts_visible(viewer).presented_to(viewer).filter(author=author, reply_to__isnull=True).order_by("-id")


def post_replies(viewer, post: Post) -> PostQuerySet:
    return _surface(viewer).filter(reply_to=post).order_by("id")


def post_reposts(viewer, post: Post) -> PostQuerySet:
    """Every repost whose chain passes through the post (what its repost_count counts)."""
    chain = PostAncestor.objects.filter(ancestor=post, via_repost=True).values("post_id")
    return _surface(viewer).filter(pk__in=chain).order_by("-id")


def repost_chain(post: Post) -> list[Post]:
    """The posts a repost passes through, nearest first, deleted ones included (shown as deleted).

    The viewer may already see `post`, and so the audience of everything above it.
    """
    links = PostAncestor.objects.filter(post=post, via_repost=True).select_related("ancestor__author__avatar")
    return posts_with_media([link.ancestor for link in links.order_by("depth")])


def thread_parent(viewer, post: Post) -> Post | None:
    """The post a reply answers, deleted or not (the viewer may see the reply, so its audience too)."""
    if post.reply_to_id is None:
        return None
    parent = Post.objects.presented_to(viewer).filter(pk=post.reply_to_id).first()
    return posts_with_media([parent])[0] if parent is not None else None


def is_following(viewer, user: User) -> bool:
    return _signed_in(viewer) and Follow.objects.filter(follower_id=viewer.pk, followee=user).exists()


def is_muting(viewer, user: User) -> bool:
    return _signed_in(viewer) and Mute.objects.filter(user_id=viewer.pk, muted=user).exists()


def muted_by(viewer) -> QuerySet[User]:
    """The people the viewer muted, by username."""
    return User.objects.filter(pk__in=Mute.objects.filter(user_id=viewer.pk).values("muted_id")).order_by("username")


@dataclass
class Profile:
    user: User
    followers_count: int
    following_count: int
    posts_count: int
    is_following: bool
    is_contact: bool
    is_muted: bool

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def bio(self) -> str:
        return self.user.bio


def profile_of(viewer, user: User) -> Profile:
    counts = User.objects.filter(pk=user.pk).aggregate(
        followers=Count("follower_links", distinct=True), following=Count("following_links", distinct=True)
    )
    signed_in = _signed_in(viewer) and viewer.pk != user.pk
    return Profile(
        user=user,
        followers_count=counts["followers"],
        following_count=counts["following"],
        posts_count=user_posts(viewer, user).count(),
        is_following=signed_in and is_following(viewer, user),
        is_contact=signed_in and are_contacts(viewer, user),
        is_muted=signed_in and is_muting(viewer, user),
    )


def _hidden_from(viewer):
    """Ids of the people a block stands between the viewer and (none for a visitor), as a subquery."""
    return people_hidden_from([viewer.pk] if _signed_in(viewer) else [])


def followers_of(viewer, user: User) -> QuerySet[Follow]:
    return (
        Follow.objects.filter(followee=user, follower__is_active=True)
        .exclude(follower_id__in=_hidden_from(viewer))
        .select_related("follower__avatar")
        .order_by("-id")
    )


def following_of(viewer, user: User) -> QuerySet[Follow]:
    return (
        Follow.objects.filter(follower=user, followee__is_active=True)
        .exclude(followee_id__in=_hidden_from(viewer))
        .select_related("followee__avatar")
        .order_by("-id")
    )


def notifications_for(viewer) -> QuerySet[Notification]:
    """The viewer's notifications whose post they may still see, from people not muted or blocked."""
    muted = Mute.objects.filter(user_id=viewer.pk).values("muted_id")
    visible_posts = posts_visible(viewer).values("pk")
    return (
        Notification.objects.filter(recipient_id=viewer.pk)
        .filter(Q(post__isnull=True) | Q(post_id__in=visible_posts))
        .exclude(actor_id__in=muted)
        .exclude(actor_id__in=_hidden_from(viewer))
        .select_related("actor__avatar")
        .order_by("-id")
    )


# Repeats of these kinds about one thing fold into one line ("Tom and 3 others liked your post");
# a reply or a mention is its own line, since each says something of its own.
GROUPED_KINDS = frozenset({Notification.Kind.LIKE, Notification.Kind.REPOST, Notification.Kind.FOLLOW})
# The kinds the Mentions tab shows: a reply speaks to you as a mention does.
MENTION_KINDS = (Notification.Kind.MENTION, Notification.Kind.REPLY)


@dataclass
class NotificationGroup:
    """One line of the notifications page: notifications of one kind about one thing, newest first."""

    kind: str
    notifications: list[Notification]
    post: Post | None  # what the newest one points at: the like's post, the reply, the repost, the mention
    subject: Post | None  # the viewer's own post it is about (liked, replied to, reposted), quoted

    @property
    def id(self) -> int:
        return self.notifications[0].pk

    @property
    def created_at(self):
        return self.notifications[0].created_at

    @property
    def unread(self) -> bool:
        return any(not n.read for n in self.notifications)

    @property
    def actors(self) -> list[User]:
        seen: dict[int, User] = {}
        for notification in self.notifications:
            seen.setdefault(notification.actor_id, notification.actor)
        return list(seen.values())

    @property
    def actor(self) -> User:
        return self.actors[0]

    @property
    def others(self) -> str:
        """What follows the first name: "", " and Ann", " and 3 others"."""
        rest = self.actors[1:]
        if not rest:
            return ""
        if len(rest) == 1:
            return f" and {rest[0].shown_name}"
        return f" and {len(rest)} others"


def _subject_candidates(kind: str, post: Post) -> list[int]:
    if kind == Notification.Kind.LIKE:
        return [post.pk]
    if kind == Notification.Kind.REPLY:
        return [post.reply_to_id] if post.reply_to_id else []
    if kind == Notification.Kind.REPOST:
        # The post reposted, or for the author of a chain's root, the root.
        return [pk for pk in (post.repost_of_id, post.original_id) if pk]
    return []


def notification_groups(viewer, *, kinds=None, limit: int = 50) -> list[NotificationGroup]:
    """The viewer's newest `limit` notifications (of `kinds`, else all) as page lines: repeats of a
    like, a repost or a follow about the same thing grouped, each with the post it is about. Four
    queries (notifications, their posts, the posts they are about, those posts' media) at most."""
    items = notifications_for(viewer)
    if kinds:
        items = items.filter(kind__in=kinds)
    items = list(items[:limit])
    posts = posts_by_id(viewer, [n.post_id for n in items if n.post_id])
    wanted = {pk for n in items if n.post_id in posts for pk in _subject_candidates(n.kind, posts[n.post_id])}
    wanted -= posts.keys()
    subjects = {**posts, **posts_by_id(viewer, list(wanted))}
    groups: dict[tuple, NotificationGroup] = {}
    for notification in items:
        post = posts.get(notification.post_id)
        if notification.post_id and post is None:
            continue  # gone since (deleted): nothing left to say
        subject = None
        if post is not None:
            candidates = [subjects[pk] for pk in _subject_candidates(notification.kind, post) if pk in subjects]
            mine = [candidate for candidate in candidates if candidate.author_id == viewer.pk]
            subject = (mine or candidates or [None])[0]
        if notification.kind in GROUPED_KINDS:
            key = (notification.kind, subject.pk if subject else None)
        else:
            key = (notification.kind, "own", notification.pk)
        group = groups.get(key)
        if group is None:
            groups[key] = NotificationGroup(notification.kind, [notification], post, subject)
        else:
            group.notifications.append(notification)
    return list(groups.values())


def notifications_unread(viewer) -> int:
    return notifications_for(viewer).filter(read=False).count()


def posts_by_id(viewer, ids: list[int]) -> dict[int, Post]:
    """The posts among `ids` the viewer may see, presented, with their media: two queries."""
    if not ids:
        return {}
    return {post.pk: post for post in posts_with_media(posts_visible(viewer).presented_to(viewer).filter(pk__in=ids))}


def posts_with_media(posts) -> list[Post]:
    """The posts (any iterable of them), each with `media_items`, its photos in order, and
    `original_media_items`, those of the post a repost reposts (empty for others, and once the
    original is deleted): one query for the whole page, never one per post. The original, when
    joined (`select_related("original")`, as the pages do), gets its `media_items` too.

    Every list of posts that is presented passes through here; PostSerializer looks up a post
    that did not (alone, with a query of its own).
    """
    posts = list(posts)
    ids = {post.pk for post in posts} | {post.original_id for post in posts if post.original_id is not None}
    found = media_for("post", sorted(ids)) if ids else {}
    original_field = Post._meta.get_field("original")
    for post in posts:
        post.media_items = found.get(post.pk, [])
        post.original_media_items = found.get(post.original_id, []) if post.original_id is not None else []
        if post.original_id is not None and original_field.is_cached(post):
            post.original.media_items = post.original_media_items
    _with_articles(posts + [post.original for post in posts if post.original_id and original_field.is_cached(post)])
    return posts


def _with_articles(posts: list[Post]) -> None:
    """Joins the articles the posts carry (with their covers): one query when any does, none otherwise."""
    article_field = Post._meta.get_field("article")
    wanted = {post.article_id for post in posts if post.article_id is not None and not article_field.is_cached(post)}
    if not wanted:
        return
    articles = article_field.related_model.objects.select_related("cover").in_bulk(wanted)
    for post in posts:
        if post.article_id in articles:
            post.article = articles[post.article_id]


def can_see(viewer, post: Post) -> bool:
    return posts_visible(viewer).filter(pk=post.pk).exists()


def visible_pairs(viewers: list[User], post_ids) -> set[tuple[int, int]]:
    """{(post id, viewer id)} for every post among `post_ids` each viewer may see.

    The same rule as `posts_visible`, for many viewers in one round trip per
    VIEWERS_PER_QUERY of them (a UNION ALL of each viewer's query), not one each.
    """
    ids = list(post_ids)
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(viewers), VIEWERS_PER_QUERY):
        queries = [
            posts_visible(viewer)
            .filter(pk__in=ids)
            .annotate(viewer_id=Value(viewer.pk, output_field=IntegerField()))
            .values_list("pk", "viewer_id")
            for viewer in viewers[start : start + VIEWERS_PER_QUERY]
        ]
        pairs.update(queries[0].union(*queries[1:], all=True))
    return pairs


def visible_reply_counts(viewers: list[User], post_ids) -> dict[tuple[int, int], int]:
    """{(post id, viewer id): replies that viewer may see} for every post among `post_ids` each viewer may see.

    `visible_pairs` with each viewer's own reply count (what `presented_to` shows them), in one
    round trip per VIEWERS_PER_QUERY viewers: for a card pushed to many readers, each their own figure.
    """
    ids = list(post_ids)
    counts: dict[tuple[int, int], int] = {}
    for start in range(0, len(viewers), VIEWERS_PER_QUERY):
        queries = [
            posts_visible(viewer)
            .filter(pk__in=ids)
            .annotate(viewer_id=Value(viewer.pk, output_field=IntegerField()), seen=visible_reply_count(viewer))
            .values_list("pk", "viewer_id", "seen")
            for viewer in viewers[start : start + VIEWERS_PER_QUERY]
        ]
        counts.update({(pk, viewer_id): seen for pk, viewer_id, seen in queries[0].union(*queries[1:], all=True)})
    return counts


# One post's photo checked (media.views, for each fetch): the same queries as below, built once.
@Prepared
def _post_visible_to_user(viewer_id: int, post_id: int):
    return Post.objects.visible_to(User(pk=viewer_id)).filter(pk=post_id).values_list("pk", flat=True)


@Prepared
def _post_visible_to_anyone(post_id: int):
    return Post.objects.visible_to(None).filter(pk=post_id).values_list("pk", flat=True)


@Prepared
def _post_public(post_id: int):
    return Post.objects.alive().public().filter(pk=post_id).values_list("pk", flat=True)


def _posts_visible(viewer, ids: list[int]) -> set[int]:
    if len(ids) == 1:
        if _signed_in(viewer):
            return set(_post_visible_to_user(viewer.pk, ids[0]))
        return set(_post_visible_to_anyone(ids[0]))
    return set(Post.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def _posts_public(ids: list[int]) -> set[int]:
    if len(ids) == 1:
        return set(_post_public(ids[0]))
    return set(Post.objects.alive().public().filter(pk__in=ids).values_list("pk", flat=True))


# A post's photos: whoever may see the post (visible_to); publicly cacheable when it is fully public.
media_audience = access.Audience(visible=_posts_visible, public=_posts_public)
