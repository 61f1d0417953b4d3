"""Feed scoring: pure functions of plain numbers, so each factor is unit-tested without a database.

The score of an item is the product of its factors (engagement × social proof ×
affinity × recency × network); the diversity pass then rescales items by how many
items of the same author rank above them, and the mix pass bounds the out-of-network
share. Weights come from `settings.FEED_WEIGHTS` (see `Weights`).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Weights:
    # Twitter's published heavy-ranker weights put a reply far above a repost, and a
    # repost above a like (0.5 / 1 / 13.5); the log compression keeps a viral post
    # from drowning everything else.
    like: float = 0.5
    repost: float = 1.0
    reply: float = 13.5
    # Likes by people the viewer follows ("liked by 3 people you follow").
    followed_liker: float = 1.0
    # Likes by anyone who liked what the viewer liked lately, weighted by how much they did
    # (collaborative filtering, cheaply): on the simulated network the strongest single signal.
    kindred: float = 4.0
    # The viewer's own recent actions towards an author.
    affinity_like: float = 1.0
    affinity_repost: float = 2.0
    affinity_reply: float = 3.0
    # An author who liked what the viewer liked probably writes about it too.
    affinity_taste: float = 1.0
    # Steep on purpose: the viewer's own likes are the best evidence of what they care about.
    affinity_scale: float = 8.0
    contact_boost: float = 1.5
    # Hacker News uses 1.8 over a front page of hours; over a 72-hour window of people one
    # follows, a gentle decay lets a good post from two days ago beat noise from now. This
    # value, the affinity scale and the kindred weight were tuned on the simulated network
    # (bench/RESULTS.md).
    gravity: float = 0.2
    out_of_network: float = 0.8
    # Twitter's author diversity: 1, 0.625, 0.44, ... down to the floor.
    diversity_decay: float = 0.5
    diversity_floor: float = 0.25
    out_of_network_share: float = 0.2
    # Reach as signals (issue 18): how many people a post was shown to (log-compressed), and the
    # author's V badge. Off (0) by default: on the simulated network none helped (bench/RESULTS.md,
    # "Reach as a feed signal"); set them in FEED_WEIGHTS to try.
    reach: float = 0.0
    verified: float = 0.0
    # Reach normalised: the share of its readers who liked or reposted it.
    read_rate: float = 0.0

    @classmethod
    def from_settings(cls, values: dict | None) -> "Weights":
        return cls(**(values or {}))


def engagement(*, likes: int, reposts: int, replies: int, weights: Weights) -> float:
    """1 for a post nobody engaged with, growing with the log of the weighted engagement."""
    weighted = weights.like * max(likes, 0) + weights.repost * max(reposts, 0) + weights.reply * max(replies, 0)
    return 1.0 + math.log1p(weighted)


def social_proof(*, followed_likers: int, kindred_likes: int = 0, weights: Weights) -> float:
    """More for each followed liker, and more again when its likers share the viewer's taste."""
    return (1.0 + weights.followed_liker * math.log1p(max(followed_likers, 0))) * (
        1.0 + weights.kindred * math.log1p(max(kindred_likes, 0))
    )


def affinity(*, likes: int, reposts: int, replies: int, is_contact: bool, weights: Weights, taste: int = 0) -> float:
    """How close the viewer is to the author: 1 for a stranger, more with recent interactions, shared
    taste (posts both liked) and chat."""
    weighted = (
        weights.affinity_like * max(likes, 0)
        + weights.affinity_repost * max(reposts, 0)
        + weights.affinity_reply * max(replies, 0)
        + weights.affinity_taste * max(taste, 0)
    )
    value = 1.0 + weights.affinity_scale * math.log1p(weighted)
    return value * (weights.contact_boost if is_contact else 1.0)


def reach(*, reads: int, engaged: int = 0, author_verified: bool, weights: Weights) -> float:
    """1 when the reach weights are 0 (the default); more for a widely read post, for one many of
    its readers engaged with (`engaged` likes and reposts per read), and for a verified author."""
    rate = min(max(engaged, 0) / reads, 1.0) if reads > 0 else 0.0
    return (
        (1.0 + weights.reach * math.log1p(max(reads, 0)))
        * (1.0 + weights.read_rate * rate)
        * (1.0 + (weights.verified if author_verified else 0.0))
    )


def recency(*, age_hours: float, weights: Weights) -> float:
    """(age + 2)^-gravity, the Hacker News / Bluesky form; a post from the future counts as new."""
    return (max(age_hours, 0.0) + 2.0) ** -weights.gravity


def network(*, in_network: bool, weights: Weights) -> float:
    return 1.0 if in_network else weights.out_of_network


def diversity_factor(position: int, *, weights: Weights) -> float:
    """The multiplier of an author's `position`-th item (0-based): 1, 0.625, 0.4375, ... floor 0.25."""
    floor = weights.diversity_floor
    return (1.0 - floor) * weights.diversity_decay**position + floor


def author_diversity(
    items: Sequence[T], *, score: Callable[[T], float], author: Callable[[T], int], weights: Weights
) -> list[tuple[T, float]]:
    """Rescales each item by its rank among its author's items, then sorts by the new score.

    As in Twitter's author-based listwise rescoring: an author's best item keeps its
    score, the second is multiplied by 0.625, and so on, so one prolific author
    cannot fill the top of the feed.
    """
    seen: dict[int, int] = {}
    rescored = []
    for item in sorted(items, key=score, reverse=True):
        position = seen.get(author(item), 0)
        seen[author(item)] = position + 1
        rescored.append((item, score(item) * diversity_factor(position, weights=weights)))
    rescored.sort(key=lambda pair: pair[1], reverse=True)
    return rescored


def bound_out_of_network(items: Sequence[T], *, in_network: Callable[[T], bool], share: float) -> list[T]:
    """Keeps the order but holds out-of-network items back until they are at most `share` of the list so far.

    An out-of-network item may take position i (0-based) only while out-of-network
    items stay within `share` of the first i + 1; held-back items wait for room, and
    those that never get it are left out.
    """
    result: list[T] = []
    waiting: list[T] = []
    outside = 0

    def room() -> bool:
        return (outside + 1) <= share * (len(result) + 1)

    for item in items:
        if in_network(item):
            result.append(item)
        else:
            waiting.append(item)
        while waiting and room():
            result.append(waiting.pop(0))
            outside += 1
    return result
