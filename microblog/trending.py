"""Trending tags: tags used unusually often in the last 24 h, public posts only.

A read like the selectors, kept apart because it is a computation of its own (a score
against each tag's past, a short cache) that the explore page and the feed's candidates share.
"""

import math
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from .models import PostTag

TRENDING_WINDOW = timedelta(hours=24)
TRENDING_BASELINE_DAYS = 7
TRENDING_MIN_AUTHORS = 3
TRENDING_CACHE_SECONDS = 10
TRENDING_CACHE_KEY = "microblog:trending"
TRENDING_LIMIT = 20


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
    return trends[:TRENDING_LIMIT]
