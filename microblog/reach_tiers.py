"""Earned V badges: influencer and top_influencer, from the reads of a person's posts over the last
30 days and their followers, both at least the REACH_* settings (README, "Verification and reach").

Computed daily (beat: microblog.tasks.compute_reach; `manage.py compute_reach` on the embedded
default). A badge is lost at the next computation after reach falls; a granted badge (identity,
organisation) is never touched. Each change tells the person through a notification.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import EARNED_TIERS, User, Verification
from accounts.verification import verification_announce_on_commit
from realtime.services import events_publish

from .models import Follow, Notification, PostRead
from .reads import reads_fold
from .serializers import render_notifications

READS_WINDOW = timedelta(days=30)
# Worst first: the order badges rise through.
TIER_RANK = {Verification.NONE: 0, Verification.INFLUENCER: 1, Verification.TOP_INFLUENCER: 2}


def earned_tier(*, reads: int, followers: int) -> str:
    if reads >= settings.REACH_TOP_INFLUENCER_READS and followers >= settings.REACH_TOP_INFLUENCER_FOLLOWERS:
        return Verification.TOP_INFLUENCER
    if reads >= settings.REACH_INFLUENCER_READS and followers >= settings.REACH_INFLUENCER_FOLLOWERS:
        return Verification.INFLUENCER
    return Verification.NONE


def reads_last_30_days(now=None) -> dict[int, int]:
    """{author id: reads of their posts in the last 30 days} (each post's distinct readers, summed)."""
    since = (now or timezone.now()) - READS_WINDOW
    rows = PostRead.objects.filter(created_at__gte=since).values("post__author_id").annotate(n=Count("pk"))
    return {row["post__author_id"]: row["n"] for row in rows.order_by()}


def earned_tiers_compute(now=None) -> int:
    """Sets every person's earned tier from their reach now; the number of badges that changed."""
    reads_fold()
    reads = reads_last_30_days(now)
    followers = dict(
        Follow.objects.filter(follower__is_active=True)
        .values("followee_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("followee_id", "n")
    )
    candidates = User.objects.filter(is_active=True, verification__in=[Verification.NONE, *EARNED_TIERS])
    # Only people with some reach now, or with an earned badge to lose, need looking at.
    candidates = candidates.filter(pk__in=set(reads) | set(followers)) | candidates.filter(
        verification__in=EARNED_TIERS
    )
    changed = 0
    for user in candidates.distinct():
        tier = earned_tier(reads=reads.get(user.pk, 0), followers=followers.get(user.pk, 0))
        if tier == user.verification:
            continue
        with transaction.atomic():
            rose = TIER_RANK[tier] > TIER_RANK[Verification(user.verification)]
            User.objects.filter(pk=user.pk).update(verification=tier)
            user.verification = tier
            verification_announce_on_commit(user, "verified" if rose else "unverified")
        changed += 1
    return changed


def badge_notify(*, user: User, outcome: str) -> Notification | None:
    """Tells `user` about their own badge ("verified", "refused", "unverified"); they are its actor."""
    kind = {"verified": Notification.Kind.VERIFIED, "refused": Notification.Kind.REFUSED}.get(
        outcome, Notification.Kind.UNVERIFIED
    )
    if not user.is_active:
        return None
    with transaction.atomic():
        notification = Notification.objects.create(recipient=user, actor=user, kind=kind)
        events_publish(
            user_ids=[user.pk],
            event_type="notification",
            ref={"notification": notification.pk},
            frame=render_notifications([notification], user)[0],
        )
    return notification
