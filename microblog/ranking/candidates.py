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

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import connection, transaction
from django.db.models import Count, ExpressionWrapper, FloatField, Func, IntegerField, Q, Subquery
from django.db.models.expressions import RawSQL

from accounts.models import Contact, User, Verification
from common.idlists import id_args, ids_in, padded
from common.prepared import Prepared

from ..models import Like, Post, PostTag
from ..trending import trending

TRENDING_TAGS = 3
TRENDING_POSTS = 30
MAX_VIEWER_LIKES = 300
# Rows of likes read per query: a bound for viral posts, far above what a feed page needs.
MAX_LIKES_READ = 5000
OUT_OF_NETWORK_LIKED = 60
MAX_IN_NETWORK_ROWS = 600


class EpochSeconds(Func):
    """A datetime column as seconds since 1970 (a float, to the microsecond), computed by the database.

    The candidates' query reads two datetimes a row for ~650 rows; on SQLite, Django parses each
    from text (a regular expression) and makes it aware: a third of the rows' reading. Scoring
    only needs ages: from a float, one subtraction.
    """

    output_field = FloatField()
    # Both drivers hand the value over as a float already: no converter per value (Django's would
    # call float() on each).
    convert_value = staticmethod(Func._convert_value_noop)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"EpochSeconds has no SQL for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra_context):
        # Stored as "YYYY-MM-DD HH:MM:SS[.ffffff]": the whole seconds (strftime would round the
        # fraction into them), plus the fraction when there is one.
        # '%%%%s' is strftime's %s after two rounds of %-formatting (this template's, the backend's).
        template = (
            "(CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS REAL)"
            " + COALESCE(CAST(NULLIF(substr(%(expressions)s, 20), '') AS REAL), 0))"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return super().as_sql(compiler, connection, template=template, **extra_context)


class Flag(ExpressionWrapper):
    """A condition's truth as the driver hands it over (SQLite: 1 or 0, PostgreSQL: a bool), for a
    truth test in Python: no converter per row (a BooleanField's SQLite converter, or int())."""

    convert_value = staticmethod(ExpressionWrapper._convert_value_noop)

    def __init__(self, condition: Q):
        super().__init__(condition, output_field=IntegerField())


# Slots: ~650 are made and read a dozen times each per ranking.
@dataclass(slots=True)
class Candidate:
    post_id: int
    author_id: int
    author_username: str
    # Seconds since 1970 (EpochSeconds): only ages are worked out from them.
    created: float
    likes: int
    reposts: int
    replies: int
    in_network: bool = False
    own: bool = False
    author_followed: bool = False
    author_contact: bool = False
    reposted_by: list[str] = field(default_factory=list)
    # When it last reached the network (the newest repost by a followed person, or the post itself), as `created`.
    seen: float | None = None
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
    # Who is who: (username, verified) of the viewer and of everyone they follow, so the candidates'
    # rows need not join each post's author (a few strangers' names are looked up afterwards).
    people: dict[int, tuple[str, bool]] = field(default_factory=dict)


# Every query of a ranking is asked on every first page: each is built once (common.prepared),
# keyed by whatever shapes it (a setting, a list's padded length), and run with the page's values.
@Prepared
def _followed(viewer_id: int):
    return User.objects.filter(follower_links__follower_id=viewer_id).values_list("id", "username", "verification")


@Prepared
def _contacts(viewer_id: int):
    return Contact.objects.filter(user_id=viewer_id).values_list("contact_id", flat=True)


@Prepared
def _people(*user_ids: int):
    return User.objects.filter(ids_in("id", user_ids)).values_list("id", "username", "verification")


def network_of(viewer, followed: dict[int, tuple[str, bool]] | None = None) -> Network:
    """The viewer's network; `followed` (id -> (username, verified) of the people they follow): as
    read before (`ViewerInputs`), else read now. Contacts are always read now (one small index read):
    they change in chat, whose writes this module does not hear of."""
    if followed is None:
        followed = _followed_people(viewer.pk)
    people = dict(followed)
    people[viewer.pk] = (viewer.username, viewer.verification != Verification.NONE)
    # A viewer may keep their chats out of the ranking (a setting): then nobody counts as a contact here.
    contacts = set()
    if viewer.feed_uses_chats:
        contacts = set(_contacts(viewer.pk))
    return Network(
        viewer_id=viewer.pk,
        followed={pk: username for pk, (username, _) in followed.items()},
        contacts=contacts,
        people=people,
    )


def _followed_people(viewer_id: int) -> dict[int, tuple[str, bool]]:
    return {pk: (username, verification != Verification.NONE) for pk, username, verification in _followed(viewer_id)}


def _visible(viewer):
    return Post.objects.visible_to(viewer).not_muted_by(viewer)


def _id_floor(since: datetime) -> Subquery:
    """The first post id of the window: ids grow with time, so the (author, -id) index serves the window."""
    return Subquery(Post.objects.filter(created_at__gte=since).order_by("created_at", "id").values("id")[:1])


def _candidate(post_id, author_id, created, likes, reposts, replies, reads) -> Candidate:
    """A candidate from the columns of one post in a row (`_ROW`: the post's own, or its original's);
    its author's name and badge are filled in once every author is known (`_name_people`)."""
    return Candidate(
        post_id=post_id,
        author_id=author_id,
        author_username="",
        created=created,
        likes=likes,
        reposts=reposts,
        replies=replies,
        reads=reads,
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
    # visibility, the costlier part, is then checked on those ids only.
    authors = [*net.followed, net.viewer_id]
    outside = id_args(sorted(outside)) if outside else ()
    if connection.vendor == "postgresql":
        # The walk and the rows in one statement: one round trip, and the 600 ids never leave the database.
        rows = _walked_rows_query(len(outside))(viewer.pk, *id_args(authors), since, _per_author(net), *outside)
    else:
        # Both queries are built once per shape (common.prepared): with hundreds of ids in their
        # lists, building them cost more than running them.
        newest = padded(_newest(since, authors, _per_author(net)))
        rows = _rows_query(len(newest), len(outside))(viewer.pk, *newest, *outside)
    network = {*net.followed, net.viewer_id}
    found: dict[int, Candidate] = {}
    # Who plainly reposted each (their ids, in the rows' order, newest first).
    reposters: dict[int, list[int]] = {}
    # Rows are unpacked by position (`_ROW`'s order): ~650 of them, where a dict per row cost more
    # than the rest of the loop.
    for row in rows:
        post_id, author_id, created, plain_repost, original_id = row[:5]
        # Out-of-network means by someone the viewer does not follow; the newest-per-author
        # half of the query only reaches people they do.
        in_network = author_id in network
        if plain_repost:
            key = original_id
            item = found.get(key) or _candidate(original_id, *row[_ORIGINAL])
            reposters.setdefault(key, []).append(author_id)
        else:
            key = post_id
            item = found.get(key) or _candidate(post_id, author_id, created, *row[_OWN_NUMBERS])
        item.in_network = item.in_network or in_network
        item.seen = created if item.seen is None else max(item.seen, created)
        found[key] = item
    _name_people(net, found, reposters)
    return found


_ROW = (
    "id",
    "author_id",
    "created",
    "plain_repost",
    "original_id",
    "like_count",
    "repost_count",
    "reply_count",
    "read_count",
    "original__author_id",
    "original__created",
    "original__like_count",
    "original__repost_count",
    "original__reply_count",
    "original__read_count",
)
# `_candidate`'s arguments after the post id: the post's own (author and time, then _OWN_NUMBERS),
# or its original's (_ORIGINAL, in the same order).
_OWN_NUMBERS = slice(5, 9)
_ORIGINAL = slice(9, 15)


def _name_people(net: Network, found: dict[int, Candidate], reposters: dict[int, list[int]]) -> None:
    """Each candidate's author name and badge, and its reposters' names: from the network, and the
    few others (out-of-network authors, strangers' originals) in one query."""
    people = net.people
    strangers = {item.author_id for item in found.values()} | {pk for ids in reposters.values() for pk in ids}
    strangers -= people.keys()
    if strangers:
        people = dict(people)
        for pk, username, verification in _people(*id_args(sorted(strangers))):
            people[pk] = (username, verification != Verification.NONE)
    # Someone whose account went between the rows' read and this one is nameless rather than an error.
    gone = ("", False)
    for item in found.values():
        item.author_username, item.author_verified = people.get(item.author_id, gone)
    for key, ids in reposters.items():
        names = found[key].reposted_by
        for name in (people.get(pk, gone)[0] for pk in ids):
            if name not in names:
                names.append(name)


def _newest(since: datetime, authors: list[int], per_author: int) -> list[int]:
    """The newest `per_author` posts of each of the authors in the window, at most MAX_IN_NETWORK_ROWS
    of them, newest first: picked on the (author, -id) index alone (no table rows read).

    The index hands each author's window over newest first, and the cap per author is taken here
    as they come: ROW_NUMBER() over the same rows cost SQLite more than the read (2.5 against
    1.7 ms for bench0's 2,252 window posts)."""
    newest: list[int] = []
    author, taken = None, 0
    for author_id, post_id in _window_posts(since, *padded(authors)):
        if author_id != author:
            author, taken = author_id, 0
        taken += 1
        if taken <= per_author:
            newest.append(post_id)
    newest.sort(reverse=True)
    return newest[:MAX_IN_NETWORK_ROWS]


@Prepared
def _window_posts(since: datetime, *author_ids: int):
    """(author, post) of the authors' posts in the window, each author's newest first. The authors go in
    as a list: given a subquery, SQLite walks each author's whole history instead of seeking (author, id >= floor)."""
    return (
        Post.objects.filter(author_id__in=author_ids, id__gte=_id_floor(since))
        .order_by("author_id", "-id")
        .values_list("author_id", "id")
    )


def _rows(viewer_id: int, reached: Q):
    """The candidates' rows (`_ROW`) among the posts `reached`, as the viewer may see them, muted
    authors and plain reposts of deleted posts left out."""
    viewer = User(pk=viewer_id)
    return (
        _visible(viewer)
        .filter(reached)
        .exclude(body="", original__deleted_at__isnull=False)
        .annotate(
            created=EpochSeconds("created_at"),
            original__created=EpochSeconds("original__created_at"),
            # A plain repost (no comment of its own) stands for its original; the body itself is not needed.
            plain_repost=Flag(Q(original_id__isnull=False, body="")),
        )
        .values_list(*_ROW)
        .order_by("-id")
    )


@cache
def _rows_query(newest: int, outside: int) -> Prepared:
    """`_rows` of the `newest` ids (`_newest`'s), and of the `outside` ones that are original posts."""

    def build(viewer_id: int, *ids: int):
        reached = ids_in("id", ids[:newest])
        if outside:
            reached |= ids_in("id", ids[newest:]) & Q(reply_to__isnull=True)
        return _rows(viewer_id, reached)

    return Prepared(build)


# PostgreSQL: `_newest` as one short walk of the (author, -id) index per author (at most
# `per_author` entries each), merged, capped in the database: SQLite's way (every window post
# of the network handed to Python, 2,252 for bench0, to keep 600) cost more here.
_NEWEST_WALK = """
    SELECT ARRAY(
        SELECT newest.id FROM unnest(%s::bigint[]) AS network(author_id)
        CROSS JOIN LATERAL (
            SELECT post.id FROM {posts} AS post
            WHERE post.author_id = network.author_id
              AND post.id >= (SELECT id FROM {posts} WHERE created_at >= %s ORDER BY created_at, id LIMIT 1)
            ORDER BY post.id DESC LIMIT %s
        ) AS newest
        ORDER BY newest.id DESC LIMIT %s
    )
"""


@cache
def _walked_rows_query(outside: int) -> Prepared:
    """PostgreSQL: `_rows` of the network's newest posts, walked inside the same statement
    (`_NEWEST_WALK`, an array worked out once, whose ids the primary key then seeks), and of the
    `outside` ones (an array literal, `common.idlists`) that are original posts."""

    def build(viewer_id: int, authors: str, since: datetime, per_author: int, *ids):
        walk = RawSQL(  # noqa: S611 (the table name from the model; every value is a parameter)
            _NEWEST_WALK.format(posts=Post._meta.db_table), [authors, since, per_author, MAX_IN_NETWORK_ROWS]
        )
        reached = Q(id__in_array=walk)
        if outside:
            reached |= ids_in("id", ids) & Q(reply_to__isnull=True)
        return _rows(viewer_id, reached)

    return Prepared(build)


def _liked_by_followed(followed: list[int], since: datetime) -> list[int]:
    """Posts that at least FEED_MIN_FOLLOWED_LIKERS followed people liked in the window, most liked first.

    Counted in the database on the (user, created_at, post) index, which the query never leaves:
    as many index entries as the followed people gave likes lately. The followed people go in as
    the list the ranking already holds: given the follows as a subquery, PostgreSQL joined them to
    a scan of every like in the window (12 against 5 ms at 100k posts, growing with the corpus).
    """
    if not followed:
        return []
    return _liked_query(settings.FEED_MIN_FOLLOWED_LIKERS)(since, *id_args(followed))


@cache
def _liked_query(min_likers: int) -> Prepared:
    def build(since: datetime, *followed: int):
        return (
            Like.objects.filter(ids_in("user_id", followed), created_at__gte=since)
            .values("post_id")
            # COUNT(*), not of the id: PostgreSQL's index holds no id, and counting it read the table.
            .annotate(likers=Count("*"))
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
    likers = _likers(*id_args(viewer_liked))
    return dict(Counter(user_id for user_id in likers if user_id != viewer.pk))


@Prepared
def _likers(*post_ids: int):
    return Like.objects.filter(ids_in("post_id", post_ids)).values_list("user_id", flat=True)[:MAX_LIKES_READ]


@Prepared
def _likes(*post_ids: int):
    # Unordered: past the bound (only a viral candidate gets there) which likers count is arbitrary.
    return Like.objects.filter(ids_in("post_id", post_ids)).values_list("post_id", "user_id")[:MAX_LIKES_READ]


def _likes_of(found: dict[int, Candidate], net: Network, kindred: dict[int, int]) -> None:
    """Fills in who liked each candidate: how many people the viewer follows, and how much taste
    those likers share with the viewer (collaborative filtering in one query, on the post index)."""
    for post_id, user_id in _likes(*id_args(found)):
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


@dataclass
class ViewerInputs:
    """What a ranking reads about the viewer that changes slowly, kept across first pages
    (`viewer_inputs`): who they follow (names and badges), what they liked lately and how often
    they liked, reposted and replied to each author, the people of their taste, and the posts at
    least FEED_MIN_FOLLOWED_LIKERS of the people they follow liked. ~5 ms of a page's ~20 read
    afresh on every first page before."""

    followed: dict[int, tuple[str, bool]]
    liked: list[int]
    likes: Counter
    reposts: Counter
    replies: Counter
    kindred: dict[int, int]
    liked_by_followed: list[int]


def _inputs_keys(viewer_id: int) -> tuple[str, str]:
    """(the viewer's generation, their inputs): the inputs count only when stored under the current generation."""
    return f"feed:inputs-generation:{viewer_id}", f"feed:inputs:{viewer_id}"


def viewer_inputs(viewer, *, now: datetime) -> ViewerInputs:
    """The viewer's `ViewerInputs`, read again when the viewer acted since they were read (liked,
    reposted, replied, posted, followed: `viewer_inputs_forget`) or after FEED_INPUTS_TTL (others'
    likes). Nothing here decides what the viewer may see: every candidate is still checked by the
    visibility rule in this request (`_gather`)."""
    generation_key, inputs_key = _inputs_keys(viewer.pk)
    kept = shared_cache.get_many([generation_key, inputs_key])
    generation = kept.get(generation_key)
    stored = kept.get(inputs_key)
    if stored is not None and stored[0] == generation:
        return stored[1]
    followed = _followed_people(viewer.pk)
    liked, likes, reposts, replies = _viewer_interactions(viewer, now - settings.FEED_AFFINITY_WINDOW)
    inputs = ViewerInputs(
        followed=followed,
        liked=liked,
        likes=likes,
        reposts=reposts,
        replies=replies,
        kindred=_kindred(viewer, liked),
        liked_by_followed=_liked_by_followed(list(followed), now - settings.FEED_WINDOW),
    )
    # Stored under the generation read *before* reading them: if the viewer acted meanwhile, the
    # generation moved on and these are never used.
    shared_cache.set(inputs_key, (generation, inputs), settings.FEED_INPUTS_TTL.total_seconds())
    return inputs


def viewer_inputs_forget(*user_ids: int) -> None:
    """After the current transaction commits, the next first page of each of these people reads their
    `ViewerInputs` afresh (a new generation; it outlives any inputs stored under the previous one)."""

    def forget():
        timeout = 2 * settings.FEED_INPUTS_TTL.total_seconds()
        shared_cache.set_many({_inputs_keys(pk)[0]: secrets.token_hex(8) for pk in user_ids}, timeout)

    transaction.on_commit(forget, robust=True)


def candidates_for(viewer, *, now: datetime) -> list[Candidate]:
    inputs = viewer_inputs(viewer, now=now)
    net = network_of(viewer, inputs.followed)
    since = now - settings.FEED_WINDOW
    kindred, likes, reposts, replies = inputs.kindred, inputs.likes, inputs.reposts, inputs.replies
    trends = _trending_posts(since)
    found = _gather(viewer, net, since, outside=set(inputs.liked_by_followed) | set(trends))
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
