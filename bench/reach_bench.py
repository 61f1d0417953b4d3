"""Reach benchmark: read counting's cost on the ranked feed, folding a million reads, and the reach endpoint.

    python bench/reach_bench.py [--database sqlite|postgres] [--events 1000000] [--requests 30]

In one process on a fresh database (SQLite file in bench/out/, or PostgreSQL `reach_bench` at
BENCH_PG_URL), through DRF's APIClient:
- the ranked feed's first page with read counting on and off (interleaved, same run): p50 ratio;
- folding EVENTS (post, person, time) read events into PostRead and read_count: seconds per million;
- GET /api/posts/{id}/reach/ for a post with 10,000 reposts against GET /api/posts/{id}/: p50s.
Prints one Markdown block for bench/RESULTS.md ("## Reach").
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: str) -> None:
    os.environ.pop("REDIS_URL", None) if database == "sqlite" else None
    if database == "sqlite":
        path = ROOT / "bench" / "out" / "reach.sqlite3"
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        base = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS reach_bench")
            conn.execute("CREATE DATABASE reach_bench")
        os.environ["DATABASE_URL"] = f"{base}/reach_bench"
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="0", ALLOWED_HOSTS="testserver")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def progress(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    setup(args.database)

    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.services import token_for
    from microblog import reads
    from microblog.models import Follow, Post, PostAncestor
    from microblog.services import post_create

    progress("seeding")
    rng = random.Random(1)
    people = User.objects.bulk_create([User(username=f"r{n}", display_name=f"R {n}") for n in range(1000)])
    viewer = people[0]
    Follow.objects.bulk_create([Follow(follower=viewer, followee=person) for person in people[1:301]])
    for n in range(600):
        post_create(author=people[1 + n % 300], body=f"post {n} #topic{n % 7}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=viewer).key}")

    progress("feed pages")
    # 1. Ranked first page, counting on and off, interleaved.
    real_record = reads.reads_record
    on, off = [], []
    client.get("/api/feed/")
    for _ in range(args.requests):
        for samples, record in ((on, real_record), (off, lambda viewer, posts: None)):
            reads.reads_record = record
            start = time.perf_counter()
            assert client.get("/api/feed/").status_code == 200
            samples.append(time.perf_counter() - start)
    reads.reads_record = real_record
    reads.reads_fold()

    progress("folding")
    # 2. Folding EVENTS read events.
    post_ids = list(Post.objects.values_list("pk", flat=True))
    user_ids = [person.pk for person in people]
    now = time.time()
    events = []
    for index in range(args.events):
        events.append((post_ids[index % len(post_ids)], user_ids[(index // len(post_ids)) % len(user_ids)], now))
    start = time.perf_counter()
    reads.fold_pairs(events)
    fold_seconds = time.perf_counter() - start

    progress(f"folded in {fold_seconds:.1f} s; building the cascade")
    # 3. Reach of a post with 10,000 reposts (a random tree: each repost of the post or of an earlier repost).
    root = post_create(author=people[1], body="viral")
    reposts = Post.objects.bulk_create(
        [Post(author=people[1 + n % 999], body="", visibility="public", fully_public=True) for n in range(10_000)]
    )
    parents = [None]
    for repost in reposts:
        parent = rng.choice(parents[-200:])
        repost.repost_of_id = parent or root.pk
        repost.original_id = root.pk
        repost.read_count = rng.randint(0, 50)
        parents.append(repost.pk)
    Post.objects.bulk_update(reposts, ["repost_of_id", "original_id", "read_count"], batch_size=2000)
    PostAncestor.objects.bulk_create(
        [PostAncestor(post=repost, ancestor=root, depth=1, via_repost=True) for repost in reposts], batch_size=2000
    )
    if connection.vendor == "postgresql":
        # Tables bulk-loaded a moment ago have no statistics yet (autovacuum gets to them later):
        # without them PostgreSQL planned the visibility rule over 10,000 reposts in minutes.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    progress("reach requests")
    author = APIClient()
    author.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=people[1]).key}")
    reach, detail = [], []
    for _ in range(max(args.requests // 3, 5)):
        for samples, path in ((reach, f"/api/posts/{root.pk}/reach/"), (detail, f"/api/posts/{root.pk}/")):
            start = time.perf_counter()
            assert author.get(path).status_code == 200
            samples.append(time.perf_counter() - start)

    print(f"### {args.database} (buffer: {reads.buffer().__class__.__name__}), load: {os.getloadavg()[0]:.2f}")
    print(
        f"- ranked feed first page, p50: counting on {p50(on):.1f} ms, off {p50(off):.1f} ms: "
        f"{p50(on) / p50(off):.2f}x ({args.requests} each, interleaved)"
    )
    print(
        f"- folding {args.events:,} read events: {fold_seconds:.1f} s "
        f"({fold_seconds / args.events * 1_000_000:.1f} s per million)"
    )
    print(
        f"- reach of a post with 10,000 reposts, p50 {p50(reach):.1f} ms; post detail p50 {p50(detail):.1f} ms "
        f"({p50(reach) / p50(detail):.1f}x)"
    )


if __name__ == "__main__":
    main()
