"""Who to follow: people with reach in the topics the viewer engages with, each with a reason.

Topics are the tags of what the viewer posted, liked or reposted over the last 30 days. People are
the authors of public posts under those tags in that time, ranked by the reads those posts drew;
the reason names the topic and how many of the people the viewer follows follow them. A new viewer
(no topics, or too few people found) gets the active authors of the public timeline and the people
driving trending tags. Never: the viewer, anyone they follow, muted, blocked or blocked by, or closed.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import User
from accounts.selectors import people_hidden_from

from .models import Follow, Like, Mute, Post, PostTag
from .trending import trending_for

TOPIC_WINDOW = timedelta(days=30)
ACTIVE_WINDOW = timedelta(days=7)
TOPICS_KEPT = 10
SUGGESTIONS = 5


@dataclass
class Suggestion:
    user: User
    reason: str


def _topics(viewer, since) -> list[int]:
    """The viewer's tags (ids), most used first: what they posted, liked and reposted lately."""
    own = Post.objects.filter(author_id=viewer.pk, created_at__gte=since)
    liked = Like.objects.filter(user_id=viewer.pk, created_at__gte=since).values("post_id")
    tags = (
        PostTag.objects.filter(
            Q(post__in=own.values("pk")) | Q(post_id__in=liked) | Q(post_id__in=own.values("original_id"))
        )
        .values("hashtag_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "hashtag_id")
    )
    return [row["hashtag_id"] for row in tags[:TOPICS_KEPT]]


def suggestions_for(viewer, *, limit: int = SUGGESTIONS) -> list[Suggestion]:
    if viewer is None or not viewer.is_authenticated:
        return []
    now = timezone.now()
    followed = Follow.objects.filter(follower_id=viewer.pk).values("followee_id")
    excluded = (
        Q(pk=viewer.pk)
        | Q(pk__in=followed)
        | Q(pk__in=people_hidden_from([viewer.pk]))
        | Q(pk__in=Mute.objects.filter(user_id=viewer.pk).values("muted_id"))
    )
    allowed = User.objects.filter(is_active=True).exclude(excluded).values("pk")
    public = Post.objects.alive().public().filter(author_id__in=allowed)

    ranked: dict[int, str] = {}  # author id -> reason, in rank order
    topics = _topics(viewer, now - TOPIC_WINDOW)
    if topics:
        rows = (
            public.filter(created_at__gte=now - TOPIC_WINDOW, tag_links__hashtag_id__in=topics)
            .values("author_id", "tag_links__hashtag__name")
            .annotate(reads=Sum("read_count"), posts=Count("pk"))
            .order_by("-reads", "-posts", "author_id")
        )
        for row in rows:
            ranked.setdefault(row["author_id"], f"posts about #{row['tag_links__hashtag__name']}")
    if len(ranked) < limit:
        for trend in trending_for(viewer):
            for name in trend["drivers"]:
                person = next((pk for pk, username in trend["driver_candidates"] if username == name), None)
                if person is not None:
                    ranked.setdefault(person, f"drives #{trend['tag']} on Explore")
        active = (
            public.filter(created_at__gte=now - ACTIVE_WINDOW)
            .values("author_id")
            .annotate(reads=Sum("read_count"), posts=Count("pk"))
            .order_by("-reads", "-posts", "author_id")[: limit * 3]
        )
        for row in active:
            ranked.setdefault(row["author_id"], "active on the public timeline")
    people = User.objects.filter(pk__in=list(ranked)[: limit * 3]).filter(pk__in=allowed).select_related("avatar")
    found = {user.pk: user for user in people}
    chosen = [pk for pk in ranked if pk in found][:limit]
    followed_by = dict(
        Follow.objects.filter(follower_id__in=followed, followee_id__in=chosen)
        .values("followee_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("followee_id", "n")
    )
    suggestions = []
    for pk in chosen:
        reason = ranked[pk]
        if followed_by.get(pk):
            count = followed_by[pk]
            reason += f", followed by {count} {'person' if count == 1 else 'people'} you follow"
        suggestions.append(Suggestion(found[pk], reason))
    return suggestions
