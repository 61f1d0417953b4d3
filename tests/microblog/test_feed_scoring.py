"""The feed's score factors and passes, as pure functions of plain numbers (no database)."""

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest

from microblog.ranking.candidates import Candidate
from microblog.ranking.rankers import rank, score_candidate
from microblog.ranking.reasons import reasons_for
from microblog.ranking.scoring import (
    Weights,
    affinity,
    author_diversity,
    bound_out_of_network,
    diversity_factor,
    engagement,
    network,
    reach,
    recency,
    social_proof,
)

W = Weights()
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def test_engagement_is_one_without_engagement_and_log_compressed():
    assert engagement(likes=0, reposts=0, replies=0, weights=W) == 1.0
    assert engagement(likes=2, reposts=0, replies=0, weights=W) == pytest.approx(1 + math.log1p(1.0))
    # Ten times the likes is far less than ten times the score.
    hundred, thousand = (engagement(likes=n, reposts=0, replies=0, weights=W) for n in (100, 1000))
    assert thousand < 3 * hundred


def test_a_reply_outweighs_a_repost_which_outweighs_a_like():
    like = engagement(likes=1, reposts=0, replies=0, weights=W)
    repost = engagement(likes=0, reposts=1, replies=0, weights=W)
    reply = engagement(likes=0, reposts=0, replies=1, weights=W)
    assert like < repost < reply


def test_social_proof_grows_with_followed_likers_and_more_with_kindred_ones():
    assert social_proof(followed_likers=0, weights=W) == 1.0
    assert 1.0 < social_proof(followed_likers=1, weights=W) < social_proof(followed_likers=3, weights=W)
    # Three followed likers who each liked two of the posts the viewer liked.
    kindred = social_proof(followed_likers=3, kindred_likes=6, weights=W)
    assert kindred == pytest.approx(social_proof(followed_likers=3, weights=W) * (1 + W.kindred * math.log1p(6)))


def test_affinity_grows_with_interactions_and_a_chat_contact():
    stranger = affinity(likes=0, reposts=0, replies=0, is_contact=False, weights=W)
    assert stranger == 1.0
    liked = affinity(likes=3, reposts=0, replies=0, is_contact=False, weights=W)
    replied = affinity(likes=0, reposts=0, replies=3, is_contact=False, weights=W)
    assert stranger < liked < replied
    assert affinity(likes=0, reposts=0, replies=0, is_contact=True, weights=W) == W.contact_boost
    assert affinity(likes=3, reposts=0, replies=0, is_contact=True, weights=W) == pytest.approx(liked * W.contact_boost)
    # An author who liked what the viewer liked is closer than a stranger, less than one they engage with.
    kindred = affinity(likes=0, reposts=0, replies=0, is_contact=False, taste=1, weights=W)
    assert stranger < kindred < liked


def test_recency_decays_as_age_plus_two_to_the_minus_gravity():
    assert recency(age_hours=0, weights=W) == pytest.approx(2**-W.gravity)
    assert recency(age_hours=10, weights=W) == pytest.approx(12**-W.gravity)
    assert recency(age_hours=1, weights=W) > recency(age_hours=5, weights=W) > recency(age_hours=50, weights=W)
    assert recency(age_hours=-3, weights=W) == recency(age_hours=0, weights=W)  # clock skew: as new


def test_out_of_network_weighs_less():
    assert network(in_network=True, weights=W) == 1.0
    assert network(in_network=False, weights=W) == W.out_of_network < 1.0


def test_diversity_factor_follows_twitters_sequence_down_to_the_floor():
    factors = [diversity_factor(n, weights=W) for n in range(8)]
    assert factors[:4] == pytest.approx([1.0, 0.625, 0.4375, 0.34375])
    assert all(a > b for a, b in itertools.pairwise(factors))
    assert diversity_factor(50, weights=W) == pytest.approx(0.25)


def test_author_diversity_breaks_a_wall_of_one_author():
    # Author 1 has four items slightly above author 2's best.
    items = [("a1", 1, 10.0), ("a2", 1, 9.9), ("a3", 1, 9.8), ("a4", 1, 9.7), ("b1", 2, 9.0), ("b2", 2, 8.0)]
    ranked = author_diversity(items, score=lambda i: i[2], author=lambda i: i[1], weights=W)
    assert [item[0] for item, _ in ranked] == ["a1", "b1", "a2", "b2", "a3", "a4"]
    assert [score for _, score in ranked][:2] == pytest.approx([10.0, 9.0])


def test_out_of_network_items_stay_within_one_in_five():
    items = [("out", False)] * 6 + [("in", True)] * 14
    mixed = bound_out_of_network(items, in_network=lambda i: i[1], share=0.2)
    outside_so_far = 0
    for position, (_, inside) in enumerate(mixed):
        outside_so_far += not inside
        assert outside_so_far <= 0.2 * (position + 1)
    assert sum(not inside for _, inside in mixed) == 3  # the other three never found room
    assert [inside for _, inside in mixed][:5] == [True, True, True, True, False]


def candidate(post_id, author_id=1, *, hours=1.0, **facts) -> Candidate:
    created = (NOW - timedelta(hours=hours)).timestamp()
    base = dict(author_username=f"u{author_id}", likes=0, reposts=0, replies=0, in_network=True, author_followed=True)
    base.update(facts)
    return Candidate(post_id=post_id, author_id=author_id, created=created, seen=created, **base)


def test_the_score_is_the_product_of_the_factors():
    item = candidate(
        1,
        likes=4,
        replies=1,
        followed_likers=2,
        kindred_likes=1,
        viewer_likes=3,
        author_taste=2,
        author_contact=True,
        hours=5,
    )
    expected = (
        engagement(likes=4, reposts=0, replies=1, weights=W)
        * social_proof(followed_likers=2, kindred_likes=1, weights=W)
        * affinity(likes=3, reposts=0, replies=0, is_contact=True, taste=2, weights=W)
        * recency(age_hours=5, weights=W)
    )
    assert score_candidate(item, now=NOW, weights=W) == pytest.approx(expected)


def test_reach_is_off_by_default_and_when_weighted_favours_read_engaging_verified_posts():
    # Off by default (bench/RESULTS.md, "Reach as a feed signal"): reads and badges change no score.
    assert reach(reads=5000, engaged=900, author_verified=True, weights=W) == 1.0
    widely_read = candidate(1, hours=1, reads=5000, author_verified=True)
    unread = candidate(2, hours=1)
    assert score_candidate(widely_read, now=NOW, weights=W) == score_candidate(unread, now=NOW, weights=W)
    weighted = Weights(reach=0.5, read_rate=1.0, verified=0.5)
    assert reach(reads=1000, author_verified=False, weights=weighted) > reach(
        reads=10, author_verified=False, weights=weighted
    )
    assert reach(reads=100, engaged=50, author_verified=False, weights=weighted) > reach(
        reads=100, engaged=5, author_verified=False, weights=weighted
    )
    assert reach(reads=0, engaged=3, author_verified=True, weights=weighted) == pytest.approx(1.5)
    assert score_candidate(widely_read, now=NOW, weights=weighted) > score_candidate(unread, now=NOW, weights=weighted)


def test_rank_prefers_engaging_close_recent_posts_and_bounds_strangers():
    items = [
        candidate(1, 1, hours=1),
        candidate(2, 2, hours=1, replies=3, viewer_likes=5),
        candidate(3, 3, hours=40),
        candidate(4, 4, hours=1, likes=50, in_network=False, author_followed=False, followed_likers=4),
    ]
    order = [item.post_id for item, _ in rank(items, now=NOW, weights=W)]
    assert order[0] == 2
    assert order == [2, 1, 3]  # the stranger finds no room in a list of four


def test_reasons_name_the_strongest_factors():
    item = candidate(1, 7, reposted_by=["carol", "dave", "erin"], author_contact=True, followed_likers=3)
    assert reasons_for(item, viewer_username="alice") == [
        "you follow @u7",
        "reposted by @carol, @dave and 1 other",
        "you chat with @u7",
    ]
    stranger = candidate(2, 8, in_network=False, author_followed=False, followed_likers=3, trending_tag="rust")
    assert reasons_for(stranger, viewer_username="alice") == ["liked by 3 people you follow", "trending #rust"]
    kindred = candidate(4, 8, in_network=False, author_followed=False, kindred_likes=2)
    assert reasons_for(kindred, viewer_username="alice") == ["liked by people who like what you like"]
    assert reasons_for(candidate(5, 8, author_followed=False, kindred_likes=1), viewer_username="alice") == []
    assert reasons_for(candidate(3, 9, own=True, author_followed=False), viewer_username="u9") == ["your post"]
