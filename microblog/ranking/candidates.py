"""Candidate generation for the ranked feed: a bounded window of what the viewer's network did.

Everything here is sized by what the viewer follows, never by what exists:
- in-network: the newest posts and reposts of each followed person (and the viewer)
  within `FEED_WINDOW`, at most `MAX_IN_NETWORK_ROWS` shared among them (at least
  `FEED_PER_AUTHOR` each), walked on the (author, -id) index from an id floor found
  on the created_at index;
- out-of-network: posts that at least `FEED_MIN_FOLLOWED_LIKERS` followed people
  liked in the window, and recent public posts under the top trending tags.
Both kinds come back from one query through `visible_to(viewer)` and
`not_muted_by(viewer)`, so a candidate is always something the viewer may see. A
post reached through several plain reposts becomes one candidate carrying every
reposter.

The queries are a fixed handful whatever the number of followed people; the
result is a list of `Candidate`s holding plain numbers for `scoring`.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.conf import settings
from django.db.models import Count, F, Q, Subquery, Window
from django.db.models.functions import RowNumber

from accounts.models import Contact, User, Verification
from common.prepared import Prepared

from ..models import Follow, Like, Post, PostTag
from ..trending import trending

TRENDING_TAGS = 3
TRENDING_POSTS = 30
MAX_VIEWER_LIKES = 300
# Rows of likes read per query: a bound for viral posts, far above what a feed page needs.
MAX_LIKES_READ = 5000
OUT_OF_NETWORK_LIKED = 60
MAX_IN_NETWORK_ROWS = 600

_NUMBERS = (
    "id",
    "author_id",
    "author__username",
    "author__verification",
    "created_at",
    "like_count",
    "repost_count",
    "reply_count",
    "read_count",
)


@dataclass
class Candidate:
    post_id: int
    author_id: int
    author_username: str
    created_at: datetime
    likes: int
    reposts: int
    replies: int
    in_network: bool = False
    own: bool = False
    author_followed: bool = False
    author_contact: bool = False
    reposted_by: list[str] = field(default_factory=list)
    # When it last reached the network (the newest repost by a followed person, or the post itself).
    seen_at: datetime | None = None
    followed_likers: int = 0
    # Summed over all its likers: how many of the viewer's recent likes each of them shares.
    kindred_likes: int = 0
    trending_tag: str | None = None
    viewer_likes: int = 0
    viewer_reposts: int = 0
    viewer_replies: int = 0
    # How many of the posts the viewer liked lately the author liked too.
    author_taste: int = 0
    # Reach: the distinct people it was shown to (Post.read_count), and the author's V badge.
    reads: int = 0
    author_verified: bool = False


@dataclass
class Network:
    viewer_id: int
    followed: dict[int, str]
    contacts: set[int]


# Every query of a ranking is asked on every first page: each is built once (common.prepared),
# keyed by whatever shapes it (a setting, a list's padded length), and run with the page's values.
@Prepared
def _followed(viewer_id: int):
    return User.objects.filter(follower_links__follower_id=viewer_id).values_list("id", "username")


@Prepared
def _contacts(viewer_id: int):
    return Contact.objects.filter(user_id=viewer_id).values_list("contact_id", flat=True)


def network_of(viewer) -> Network:
    followed = dict(_followed(viewer.pk))
    # A viewer may keep their chats out of the ranking (a setting): then nobody counts as a contact here.
    contacts = set()
    if viewer.feed_uses_chats:
        contacts = set(_contacts(viewer.pk))
    return Network(viewer_id=viewer.pk, followed=followed, contacts=contacts)


def _visible(viewer):
    return Post.objects.visible_to(viewer).not_muted_by(viewer)


def _id_floor(since: datetime) -> Subquery:
    """The first post id of the window: ids grow with time, so the (author, -id) index serves the window."""
    return Subquery(Post.objects.filter(created_at__gte=since).order_by("created_at", "id").values("id")[:1])


def _candidate(row: dict, post_id: int, *, prefix: str = "") -> Candidate:
    """A candidate from a values() row; `prefix` reads the fields of a related post (a repost's original)."""
    return Candidate(
        post_id=post_id,
        author_id=row[f"{prefix}author_id"],
        author_username=row[f"{prefix}author__username"],
        created_at=row[f"{prefix}created_at"],
        likes=row[f"{prefix}like_count"],
        reposts=row[f"{prefix}repost_count"],
        replies=row[f"{prefix}reply_count"],
        reads=row[f"{prefix}read_count"],
        author_verified=row[f"{prefix}author__verification"] != Verification.NONE,
    )


def _per_author(net: Network) -> int:
    """How many of each followed person's newest posts to consider: the row budget shared among
    them, never fewer than FEED_PER_AUTHOR. Someone following few people gets a deeper pool (more
    to choose from is what lets the ranking beat newest-first); the cost stays bounded by the budget."""
    return max(settings.FEED_PER_AUTHOR, MAX_IN_NETWORK_ROWS // (len(net.followed) + 1))


def _gather(viewer, net: Network, since: datetime, outside: set[int]) -> dict[int, Candidate]:
    """Every candidate in one visibility-checked query: the newest posts of the network, and the
    out-of-network ids (`outside`, original posts only). A post reached through several plain
    reposts becomes one candidate carrying every reposter."""
    # The newest few per author, picked on the (author, -id) index alone (no table rows read);
    # visibility, the costlier part, is then checked on those ids only. The authors go in as a
    # list: given a subquery, SQLite walks each author's whole history instead of seeking
    # (author, id >= floor).
    authors = [*net.followed, net.viewer_id]
    # Both queries are built once per shape (common.prepared): with hundreds of ids in their
    # lists, building them cost more than running them. Fetched, not nested: ORed with the
    # out-of-network ids, a subquery here made PostgreSQL check visibility on every post there
    # is (760 ms at 1M posts) instead of seeking ids.
    newest = _newest_query(_per_author(net))(since, *_padded(authors))
    newest, outside = _padded(newest), _padded(sorted(outside)) if outside else ()
    rows = [
        dict(zip(_ROW, row, strict=True))
        for row in _rows_query(len(newest), len(outside))(viewer.pk, *newest, *outside)
    ]
    network = {*net.followed, net.viewer_id}
    found: dict[int, Candidate] = {}
    for row in rows:
        # Out-of-network means by someone the viewer does not follow; the newest-per-author
        # half of the query only reaches people they do.
        in_network = row["author_id"] in network
        plain_repost = row["original_id"] is not None and row["body"] == ""
        if plain_repost:
            key = row["original_id"]
            item = found.get(key) or _candidate(row, key, prefix="original__")
            if row["author__username"] not in item.reposted_by:
                item.reposted_by.append(row["author__username"])
        else:
            key = row["id"]
            item = found.get(key) or _candidate(row, key)
        item.in_network = item.in_network or in_network
        item.seen_at = max(item.seen_at or row["created_at"], row["created_at"])
        found[key] = item
    return found


_ROW = (
    *_NUMBERS,
    "body",
    "original_id",
    "original__author_id",
    "original__author__username",
    "original__created_at",
    "original__like_count",
    "original__repost_count",
    "original__reply_count",
    "original__read_count",
    "original__author__verification",
)
# Id lists go in one argument each, padded with 0 (no row has it) to one of these lengths.
_LENGTHS = (10, 50, 100, 200, 400, 700, 1000, 2000, 5000)


def _padded(ids) -> tuple[int, ...]:
    ids = tuple(ids)
    length = next((length for length in _LENGTHS if length >= len(ids)), len(ids))
    return (*ids, *(0,) * (length - len(ids)))


@cache
def _newest_query(per_author: int) -> Prepared:
    """The newest `per_author` posts of each of the authors in the window, at most MAX_IN_NETWORK_ROWS
    of them: picked on the (author, -id) index alone (no table rows read). The authors go in as a
    list: given a subquery, SQLite walks each author's whole history instead of seeking (author, id >= floor)."""

    def build(since: datetime, *author_ids: int):
        return (
            Post.objects.filter(author_id__in=author_ids, id__gte=_id_floor(since))
            .annotate(nth=Window(RowNumber(), partition_by=[F("author_id")], order_by=F("id").desc()))
            .filter(nth__lte=per_author)
            .order_by("-id")
            .values_list("id", flat=True)[:MAX_IN_NETWORK_ROWS]
        )

    return Prepared(build)


@cache
def _rows_query(newest: int, outside: int) -> Prepared:
    """The candidates' rows (`_ROW`): the `newest` ids, and the `outside` ones that are original posts,
    as the viewer may see them, muted authors and plain reposts of deleted posts left out."""

    def build(viewer_id: int, *ids: int):
        reached = Q(id__in=ids[:newest])
        if outside:
            reached |= Q(id__in=ids[newest:], reply_to__isnull=True)
        viewer = User(pk=viewer_id)
        return (
            _visible(viewer)
            .filter(reached)
            .exclude(body="", original__deleted_at__isnull=False)
            .values_list(*_ROW)
            .order_by("-id")
        )

    return Prepared(build)


def _liked_by_followed(net: Network, since: datetime) -> list[int]:
    """Posts that at least FEED_MIN_FOLLOWED_LIKERS followed people liked in the window, most liked first.

    Counted in the database on the (user, created_at, post) index, which the query never leaves:
    as many index entries as the followed people gave likes lately.
    """
    if not net.followed:
        return []
    return _liked_query(settings.FEED_MIN_FOLLOWED_LIKERS)(net.viewer_id, since)


@cache
def _liked_query(min_likers: int) -> Prepared:
    def build(viewer_id: int, since: datetime):
        followed = Follow.objects.filter(follower_id=viewer_id).values("followee_id")
        return (
            Like.objects.filter(user_id__in=followed, created_at__gte=since)
            .values("post_id")
            .annotate(likers=Count("id"))
            .filter(likers__gte=min_likers)
            .order_by("-likers", "-post_id")
            .values_list("post_id", flat=True)[:OUT_OF_NETWORK_LIKED]
        )

    return Prepared(build)


def _kindred(viewer, viewer_liked: list[int]) -> dict[int, int]:
    """Person -> how many of the posts the viewer liked lately they liked too: people of the viewer's taste.

    Read from the likers of the viewer's few liked posts (on the (post, user) index), so the
    cost is theirs, not the whole network's history of likes.
    """
    if not viewer_liked:
        return {}
    likers = _likers(*_padded(viewer_liked))
    return dict(Counter(user_id for user_id in likers if user_id != viewer.pk))


@Prepared
def _likers(*post_ids: int):
    return Like.objects.filter(post_id__in=post_ids).values_list("user_id", flat=True)[:MAX_LIKES_READ]


@Prepared
def _likes(*post_ids: int):
    # Unordered: past the bound (only a viral candidate gets there) which likers count is arbitrary.
    return Like.objects.filter(post_id__in=post_ids).values_list("post_id", "user_id")[:MAX_LIKES_READ]


def _likes_of(found: dict[int, Candidate], net: Network, kindred: dict[int, int]) -> None:
    """Fills in who liked each candidate: how many people the viewer follows, and how much taste
    those likers share with the viewer (collaborative filtering in one query, on the post index)."""
    for post_id, user_id in _likes(*_padded(found)):
        item = found[post_id]
        item.followed_likers += user_id in net.followed
        item.kindred_likes += kindred.get(user_id, 0)


def _trending_posts(since: datetime) -> dict[int, str]:
    tags = [trend["tag"] for trend in trending()[:TRENDING_TAGS]]
    if not tags:
        return {}
    rows = (
        PostTag.objects.filter(hashtag__name__in=tags, post_id__gte=_id_floor(since))
        .filter(post__fully_public=True, post__deleted_at__isnull=True)
        .values_list("post_id", "hashtag__name")
        .order_by("-post_id")[:TRENDING_POSTS]
    )
    return dict(rows)


def _viewer_interactions(viewer, since: datetime) -> tuple[list[int], Counter, Counter, Counter]:
    """What the viewer liked lately, and per author: how often they liked, reposted and replied."""
    liked = _viewer_likes(viewer.pk, since)
    likes = Counter(author_id for _, author_id in liked)
    reposts: Counter = Counter()
    replies: Counter = Counter()
    for replied, reposted, n in _viewer_posts(viewer.pk, since):
        if replied is not None:
            replies[replied] += n
        if reposted is not None:
            reposts[reposted] += n
    return [post_id for post_id, _ in liked], likes, reposts, replies


@Prepared
def _viewer_likes(viewer_id: int, since: datetime):
    return (
        Like.objects.filter(user_id=viewer_id, created_at__gte=since)
        .order_by("-id")
        .values_list("post_id", "post__author_id")[:MAX_VIEWER_LIKES]
    )


@Prepared
def _viewer_posts(viewer_id: int, since: datetime):
    """(replied-to author, reposted author, how many) of the viewer's replies and reposts lately."""
    return (
        Post.objects.filter(author_id=viewer_id, created_at__gte=since)
        .filter(Q(reply_to__isnull=False) | Q(repost_of__isnull=False))
        .values("reply_to__author_id", "repost_of__author_id")
        .annotate(n=Count("id"))
        .values_list("reply_to__author_id", "repost_of__author_id", "n")
    )


def candidates_for(viewer, *, now: datetime) -> list[Candidate]:
    net = network_of(viewer)
    since = now - settings.FEED_WINDOW
    viewer_liked, likes, reposts, replies = _viewer_interactions(viewer, now - settings.FEED_AFFINITY_WINDOW)
    kindred = _kindred(viewer, viewer_liked)
    trends = _trending_posts(since)
    found = _gather(viewer, net, since, outside=set(_liked_by_followed(net, since)) | set(trends))
    _likes_of(found, net, kindred)
    for item in found.values():
        item.own = item.author_id == net.viewer_id
        item.author_followed = item.author_id in net.followed
        item.author_contact = item.author_id in net.contacts
        item.author_taste = kindred.get(item.author_id, 0)
        item.trending_tag = trends.get(item.post_id)
        item.viewer_likes = likes[item.author_id]
        item.viewer_reposts = reposts[item.author_id]
        item.viewer_replies = replies[item.author_id]
    return list(found.values())
