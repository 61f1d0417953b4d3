"""The synthetic network behind `seed_bench` and the feed benchmark: hidden interests, nothing more.

Every bench user has a couple of topic interests that only the simulator knows. A
post's topic is written at the start of its body ("t7: ..."), so the benchmark can
tell whether the viewer would engage with it; the ranker never reads either, it
only sees what the simulated people did (likes, reposts, follows).
"""

import random

TOPICS = 20
INTERESTS_EACH = 2
USERNAME_PREFIX = "bench"


def interests_of(index: int, *, seed: int) -> frozenset[int]:
    rng = random.Random(f"{seed}:interests:{index}")
    return frozenset(rng.sample(range(TOPICS), INTERESTS_EACH))


def topic_of(body: str) -> int | None:
    head, _, _ = body.partition(":")
    return int(head[1:]) if head.startswith("t") and head[1:].isdigit() else None


def username(index: int) -> str:
    return f"{USERNAME_PREFIX}{index}"
