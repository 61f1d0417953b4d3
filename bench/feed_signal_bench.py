"""Reach as a feed signal (issue 18): ranking quality with and without reads and V badges, same run.

    python bench/feed_signal_bench.py [--size 20000] [--seeds 1,7]

For each seed it builds (once; reused afterwards) a SQLite database with
`manage.py seed_bench --users size/20 --posts size --seed N` (which also writes the simulated
reads and computes the earned badges), then, in a fresh process on that database, ranks the
first 20 items for bench0..bench49 under each weight variant and reports the share on the
viewer's hidden interests (`microblog.simulation`), the same measure as bench/feed_bench.py,
against newest-first. The ranker is called directly, so measuring records no reads of its own.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
QUALITY_VIEWERS = 50
VARIANTS = {
    "ranked (default)": {},
    "+ reach 0.3": {"reach": 0.3},
    "+ reach 1.0": {"reach": 1.0},
    "+ verified 0.5": {"verified": 0.5},
    "+ reach 0.3 + verified 0.5": {"reach": 0.3, "verified": 0.5},
    "+ read rate 1.0": {"read_rate": 1.0},
    "+ read rate 3.0": {"read_rate": 3.0},
}


def env_for(url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="0", ALLOWED_HOSTS="testserver")
    return env


def build(size: int, seed: int) -> tuple[dict, float | None]:
    path = OUT / f"feed-signal-{size}-seed{seed}.sqlite3"
    env = env_for(f"sqlite:///{path}")
    if path.exists():
        return env, None
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    args = ["seed_bench", "--users", str(max(size // 20, 100)), "--posts", str(size), "--seed", str(seed)]
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    return env, time.monotonic() - started


def measure(seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Sum

    from accounts.models import User, Verification
    from microblog.models import Follow, Post, PostRead
    from microblog.ranking.rankers import ChronologicalRanker, WeightedRanker
    from microblog.simulation import interests_of, topic_of

    bodies = dict(Post.objects.filter(reply_to__isnull=True).values_list("id", "body"))
    originals = dict(Post.objects.filter(original__isnull=False, body="").values_list("id", "original_id"))

    def share(user, ids: list[int]) -> float:
        liked = interests_of(int(user.username.removeprefix("bench")), seed=seed)
        ids = [originals.get(pk, pk) for pk in ids]
        return sum(topic_of(bodies.get(pk, "")) in liked for pk in ids) / max(len(ids), 1)

    viewers = list(User.objects.filter(username__in=[f"bench{i}" for i in range(QUALITY_VIEWERS)]))
    viewers = [u for u in viewers if Follow.objects.filter(follower=u).count() >= 10]
    result = {
        "posts": Post.objects.count(),
        "users": User.objects.count(),
        "reads": PostRead.objects.count(),
        "read_count_sum": Post.objects.aggregate(n=Sum("read_count"))["n"],
        "verified": User.objects.exclude(verification=Verification.NONE).count(),
        "viewers": len(viewers),
        "quality": {},
    }
    latest = [
        [item.post.pk for item in ChronologicalRanker().page(viewer=u, cursor=None, limit=20).items] for u in viewers
    ]
    result["quality"]["latest"] = statistics.mean(share(u, ids) for u, ids in zip(viewers, latest, strict=True))
    base = dict(settings.FEED_WEIGHTS or {})
    for name, extra in VARIANTS.items():
        settings.FEED_WEIGHTS = {**base, **extra}
        shares = [share(u, [pk for pk, _, _ in WeightedRanker().entries(u)[:20]]) for u in viewers]
        result["quality"][name] = statistics.mean(shares)
    settings.FEED_WEIGHTS = base
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--seeds", default="1,7")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    load = [os.getloadavg()[0]]
    runs = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        env, seeded = build(args.size, seed)
        measured = subprocess.run(
            [sys.executable, __file__, "--measure", str(seed)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        runs[seed] = {**json.loads(measured.stdout.strip().splitlines()[-1]), "seeding_s": seeded}
        print(seed, json.dumps(runs[seed]), flush=True)
    load.append(os.getloadavg()[0])
    print(json.dumps({"command": "python bench/feed_signal_bench.py " + " ".join(sys.argv[1:]), "load": load}))


if __name__ == "__main__":
    main()
