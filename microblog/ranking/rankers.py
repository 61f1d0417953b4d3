"""The feed's rankers, behind one interface: `page(viewer=, cursor=, limit=) -> FeedPage`."""

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from ..models import Post
from ..presenting import newest_presented, presented_posts
from ..selectors import feed_latest, feed_latest_ids, feed_moments, posts_visible
from . import scoring
from .candidates import Candidate, candidates_for
from .reasons import reasons_for
from .snapshot import (
    InvalidCursor,
    LatestCursor,
    RankedCursor,
    cursor_decode,
    cursor_encode,
    snapshot_load,
    snapshot_store,
)


@dataclass
class FeedItem:
    post: Post
    score: float | None
    reasons: list[str]


@dataclass
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None
    # True when the cursor's snapshot had expired and this page starts a fresh ranking.
    restarted: bool = False


def _presented(viewer, ids: list[int], *, checked: bool = False, for_api: bool = False) -> dict[int, Post]:
    """The page's posts as the viewer may see them *now* (one query): a post deleted, blocked
    or muted since the snapshot was taken drops out of the page instead of showing.

    `checked`: the ids were drawn through the visibility rule in this same request (a fresh
    ranking), so building the rule a second time would only cost (a tenth of the page's time).
    """
    if for_api:
        # What the API shows (the original of a repost as an id), through queries built once.
        return presented_posts(viewer, ids, checked=checked)
    posts = Post.objects.all() if checked else posts_visible(viewer).not_muted_by(viewer)
    posts = posts.presented_to(viewer).select_related("original__author")
    return {post.pk: post for post in posts.filter(pk__in=ids)}


class ChronologicalRanker:
    """Newest first, paged by id: the baseline, and what `order=latest` serves."""

    # A page looks at up to this many newest ids per item it serves (some may be hidden from the viewer).
    SCAN_PER_ITEM = 10

    @staticmethod
    def posts(viewer):
        return feed_latest(viewer)

    @staticmethod
    def newest_ids(viewer, *, before: int | None, count: int) -> list[int] | None:
        """The ids a page may come from, picked cheaply before visibility; None: no such shortcut."""
        return feed_latest_ids(viewer, before=before, count=count)

    def page(self, *, viewer, cursor: str | None, limit: int, for_api: bool = False) -> FeedPage:
        before = None
        if cursor is not None:
            position = cursor_decode(cursor)
            if not isinstance(position, LatestCursor):
                raise InvalidCursor(cursor)
            before = position.before
        scan = limit * self.SCAN_PER_ITEM
        ids = self.newest_ids(viewer, before=before, count=scan)
        if ids is not None and for_api:
            # The ids are the network's newest (below `before`): keep the visible ones, present a page.
            rows = newest_presented(viewer, ids, count=limit + 1) if ids else []
        else:
            posts = self.posts(viewer).select_related("original__author")
            if before is not None:
                posts = posts.filter(pk__lt=before)
            if ids is not None:
                posts = posts.filter(pk__in=ids)
            rows = list(posts[: limit + 1])
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1].pk
        elif ids is not None and len(ids) == scan:
            # Fewer visible posts than asked among all those scanned: the next page goes on below them.
            last = ids[-1]
        else:
            last = None
        items = [FeedItem(post=post, score=None, reasons=self._reasons(viewer, post)) for post in rows]
        next_cursor = cursor_encode(LatestCursor(before=last)) if last is not None else None
        return FeedPage(items=items, next_cursor=next_cursor)

    @staticmethod
    def _reasons(viewer, post: Post) -> list[str]:
        return ["your post"] if post.author_id == viewer.pk else [f"you follow @{post.author.username}"]


class MomentsRanker(ChronologicalRanker):
    """`order=moments`: contacts-only posts of the viewer's chat circle, newest first."""

    @staticmethod
    def posts(viewer):
        return feed_moments(viewer)

    @staticmethod
    def newest_ids(viewer, *, before: int | None, count: int) -> None:
        # Moments are a small share of the circle's posts (contacts-only, no replies): an index
        # pick by author alone would mostly find posts the page then drops.
        return None

    @staticmethod
    def _reasons(viewer, post: Post) -> list[str]:
        return ["your moment"] if post.author_id == viewer.pk else [f"you chat with @{post.author.username}"]


def closeness_to(item: Candidate, *, weights: scoring.Weights) -> float:
    """How close the viewer is to the item's author (the same for every item of theirs)."""
    if item.own:
        return 1.0
    return scoring.affinity(
        likes=item.viewer_likes,
        reposts=item.viewer_reposts,
        replies=item.viewer_replies,
        is_contact=item.author_contact,
        taste=item.author_taste,
        weights=weights,
    )


def score_candidate(item: Candidate, *, now, weights: scoring.Weights, closeness: float | None = None) -> float:
    """The product of every factor but diversity, from the candidate's plain numbers; `closeness`:
    `closeness_to(item)` when the caller already has it."""
    age_hours = (now.timestamp() - (item.seen or item.created)) / 3600
    if closeness is None:
        closeness = closeness_to(item, weights=weights)
    return (
        scoring.engagement(likes=item.likes, reposts=item.reposts, replies=item.replies, weights=weights)
        * scoring.social_proof(followed_likers=item.followed_likers, kindred_likes=item.kindred_likes, weights=weights)
        * closeness
        * scoring.recency(age_hours=age_hours, weights=weights)
        * scoring.network(in_network=item.in_network, weights=weights)
        * scoring.reach(
            reads=item.reads, engaged=item.likes + item.reposts, author_verified=item.author_verified, weights=weights
        )
    )


def rank(candidates: list[Candidate], *, now, weights: scoring.Weights) -> list[tuple[Candidate, float]]:
    """Scores, diversifies by author, bounds the out-of-network share; ties break newest first."""
    # Closeness is the author's: worked out once per author (~300) rather than per item (~650).
    closeness: dict[int, float] = {}
    for item in candidates:
        if item.author_id not in closeness:
            closeness[item.author_id] = closeness_to(item, weights=weights)
    base = {
        item.post_id: score_candidate(item, now=now, weights=weights, closeness=closeness[item.author_id])
        for item in candidates
    }
    ordered = sorted(candidates, key=lambda item: -item.post_id)
    rescored = scoring.author_diversity(
        ordered, score=lambda item: base[item.post_id], author=lambda item: item.author_id, weights=weights
    )
    return scoring.bound_out_of_network(
        rescored, in_network=lambda pair: pair[0].in_network, share=weights.out_of_network_share
    )


class WeightedRanker:
    """Engagement × affinity × recency × network × author diversity, paged from a snapshot.

    When a cursor names a snapshot that has expired, the feed restarts: the page
    is the top of a fresh ranking and says `restarted`, so a client can tell the
    reader ("the feed was refreshed") rather than silently repeat or skip.
    """

    def page(self, *, viewer, cursor: str | None, limit: int, for_api: bool = False) -> FeedPage:
        entries, offset, restarted = None, 0, False
        if cursor is not None:
            position = cursor_decode(cursor)
            if not isinstance(position, RankedCursor):
                raise InvalidCursor(cursor)
            entries = snapshot_load(viewer_id=viewer.pk, snapshot=position.snapshot)
            if entries is not None:
                snapshot, offset = position.snapshot, position.offset
            else:
                restarted = True
        fresh = entries is None
        if fresh:
            entries = self.entries(viewer)
            snapshot = snapshot_store(viewer_id=viewer.pk, entries=entries)
        chosen = entries[offset : offset + limit]
        posts = _presented(viewer, [post_id for post_id, _, _ in chosen], checked=fresh, for_api=for_api)
        items = [
            FeedItem(post=posts[post_id], score=round(score, 6), reasons=reasons)
            for post_id, score, reasons in chosen
            if post_id in posts
        ]
        end = offset + limit
        next_cursor = cursor_encode(RankedCursor(snapshot=snapshot, offset=end)) if end < len(entries) else None
        return FeedPage(items=items, next_cursor=next_cursor, restarted=restarted)

    def entries(self, viewer) -> list[tuple[int, float, list[str]]]:
        now = timezone.now()
        weights = scoring.Weights.from_settings(settings.FEED_WEIGHTS)
        ranked = rank(candidates_for(viewer, now=now), now=now, weights=weights)
        return [
            (item.post_id, score, reasons_for(item, viewer_username=viewer.username))
            for item, score in ranked[: settings.FEED_SNAPSHOT_SIZE]
        ]


@cache
def ranker_named(path: str):
    return import_string(path)()


FIXED_RANKERS = {
    "latest": "microblog.ranking.rankers.ChronologicalRanker",
    "moments": "microblog.ranking.rankers.MomentsRanker",
}


def feed_page(*, viewer, order: str, cursor: str | None = None, limit: int = 20, for_api: bool = False) -> FeedPage:
    """One page of the viewer's home feed; `order` is "ranked" (settings.FEED_RANKER), "latest" or "moments".

    `for_api`: the posts as the API shows them (`presenting`: no repost's original joined).
    """
    path = settings.FEED_RANKER if order == "ranked" else FIXED_RANKERS[order]
    return ranker_named(path).page(viewer=viewer, cursor=cursor, limit=limit, for_api=for_api)
