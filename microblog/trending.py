"""Trending tags: tags used unusually often in the last 24 h, public posts only.

A read like the selectors, kept apart because it is a computation of its own (a score
against each tag's past, a short cache) that the explore page and the feed's candidates share.
"""

import math
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from accounts.selectors import people_hidden_from

from .models import Mute, PostRead, PostTag

TRENDING_WINDOW = timedelta(hours=24)
TRENDING_BASELINE_DAYS = 7
TRENDING_MIN_AUTHORS = 3
TRENDING_CACHE_SECONDS = 10
TRENDING_CACHE_KEY = "microblog:trending"
TRENDING_LIMIT = 20
# Drivers shown per trend, and kept in the shared cache per trend (more, so a viewer's blocks and
# mutes can drop some and still leave three).
DRIVERS_SHOWN = 3
DRIVERS_KEPT = 10


def trending(now=None) -> list[dict]:
    """Tags used unusually often in the last 24 h, public posts only, cached for a few seconds."""
    if now is None:
        cached = cache.get(TRENDING_CACHE_KEY)
        if cached is not None:
            return cached
    result = _trending_compute(now or timezone.now())
    if now is None:
        cache.set(TRENDING_CACHE_KEY, result, TRENDING_CACHE_SECONDS)
    return result


def trend_score(*, authors: int, baseline_authors: int, baseline_days: int) -> float:
    """How unusual today's use of a tag is: distinct authors now against the daily average before.

    A Poisson-style surprise, (observed - expected) / sqrt(expected + 1): a tag that
    is always busy needs many more people to trend than a tag that was quiet.
    """
    expected = baseline_authors / baseline_days
    return round((authors - expected) / math.sqrt(expected + 1), 3)


def _trending_compute(now) -> list[dict]:
    since = now - TRENDING_WINDOW
    baseline_since = since - timedelta(days=TRENDING_BASELINE_DAYS)
    public_alive = PostTag.objects.filter(post__fully_public=True, post__deleted_at__isnull=True)
    recent = list(
        public_alive.filter(post__created_at__gte=since, post__created_at__lte=now)
        .values("hashtag_id", "hashtag__name")
        .annotate(posts=Count("post_id", distinct=True), authors=Count("post__author_id", distinct=True))
        .filter(authors__gte=TRENDING_MIN_AUTHORS)
    )
    if not recent:
        return []
    baseline = dict(
        public_alive.filter(
            hashtag_id__in=[row["hashtag_id"] for row in recent],
            post__created_at__gte=baseline_since,
            post__created_at__lt=since,
        )
        .values("hashtag_id")
        .annotate(authors=Count("post__author_id", distinct=True))
        .values_list("hashtag_id", "authors")
    )
    trends = []
    for row in recent:
        before = baseline.get(row["hashtag_id"], 0)
        per_day = before / TRENDING_BASELINE_DAYS
        trends.append(
            {
                "tag": row["hashtag__name"],
                "posts": row["posts"],
                "authors": row["authors"],
                "score": trend_score(
                    authors=row["authors"], baseline_authors=before, baseline_days=TRENDING_BASELINE_DAYS
                ),
                "why": (
                    f"{row['authors']} people posted #{row['hashtag__name']} in the last 24 h, "
                    f"against about {per_day:.1f} a day over the {TRENDING_BASELINE_DAYS} days before"
                ),
            }
        )
    trends.sort(key=lambda trend: (-trend["score"], -trend["authors"], trend["tag"]))
    trends = trends[:TRENDING_LIMIT]
    shown = {trend["tag"] for trend in trends}
    drivers = _drivers(
        {row["hashtag__name"]: row["hashtag_id"] for row in recent if row["hashtag__name"] in shown},
        since=since,
        now=now,
    )
    for trend in trends:
        trend["driver_candidates"] = drivers.get(trend["tag"], [])
    return trends


def _drivers(tag_ids: dict[str, int], *, since, now) -> dict[str, list[tuple[int, str]]]:
    """{tag: [(author id, username), ...]}: whose public posts under the tag, and public reposts of such
    posts, drew the most reads in the window; most first, DRIVERS_KEPT at most. Two queries."""
    reads = PostRead.objects.filter(
        created_at__gte=since, created_at__lte=now, post__fully_public=True, post__deleted_at__isnull=True
    )
    tally: dict[int, dict[tuple[int, str], int]] = {}
    for through in ("post__tag_links__hashtag_id", "post__original__tag_links__hashtag_id"):
        rows = (
            reads.filter(**{f"{through}__in": list(tag_ids.values())})
            .values(through, "post__author_id", "post__author__username")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            person = (row["post__author_id"], row["post__author__username"])
            tally.setdefault(row[through], {})
            tally[row[through]][person] = tally[row[through]].get(person, 0) + row["n"]
    return {
        tag: [person for person, _ in sorted(tally.get(tag_id, {}).items(), key=lambda kv: (-kv[1], kv[0][1]))][
            :DRIVERS_KEPT
        ]
        for tag, tag_id in tag_ids.items()
    }


def trending_for(viewer) -> list[dict]:
    """`trending()` with each trend's `drivers` (usernames) as this viewer may see them: nobody they
    blocked or are blocked by, nobody they muted."""
    hidden: set[int] = set()
    if viewer is not None and viewer.is_authenticated:
        hidden = set(people_hidden_from([viewer.pk]).values_list("blocked_id", flat=True))  # both sides
        hidden |= set(Mute.objects.filter(user_id=viewer.pk).values_list("muted_id", flat=True))
    return [
        {**trend, "drivers": [name for pk, name in trend["driver_candidates"] if pk not in hidden][:DRIVERS_SHOWN]}
        for trend in trending()
    ]
