"""Search benchmark: query latency over HTTP against corpus size, and what the index costs a post.

    python bench/search_bench.py [--sizes 100000,1000000] [--database sqlite|postgres|both] [--requests 200]

For each corpus size it builds (once; reused afterwards) a database with `manage.py seed_bench
--users size/20 --posts size` (the feed benchmark's network: English-ish bodies "t7: post 12 by
name"), adds a tenth as many posts of CJK and mixed text (and 12 with a rare word), and builds the
index with `manage.py search_rebuild` (timed: the from-scratch build). Then, against one daphne
on that database, it times GET /api/search/?q= with bench0's token, keep-alive, one at a time:
- a frequent term ("post": in every seeded post),
- a rare term ("quokka": 12 posts),
- a term that matches nothing,
- a two-character CJK term ("咖啡", in about one CJK post in eight),
- and a one-character CJK term and a people prefix, for the record.
Indexing cost: POST /api/posts/ p50 against a second daphne on the same database whose
SEARCH_BACKEND indexes nothing (search.backends.base.NullBackend), requests alternating
between the two, in the same run.

Each database's figures go to bench/out/search-results-KIND.json; every run rewrites the
"## Search" section of bench/RESULTS.md from the latest figures of each database.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
OUT = ROOT / "bench" / "out"
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
TERMS = {
    "frequent": "post",
    "rare": "quokka",
    "no match": "zzyzxq",
    "CJK, 2 chars": "咖啡",
    "CJK, 1 char": "茶",
    "person prefix": "bench12",
}
HEADLINE = ("frequent", "rare", "no match", "CJK, 2 chars")

# The CJK posts: sentences of these, with a Latin word now and then (mixed scripts).
PHRASES = [
    "今天北京天气很好",
    "我们去喝咖啡吧",
    "上海的地铁很方便",
    "周末一起看电影",
    "这家餐厅的菜很好吃",
    "东京の桜が咲いた",
    "明天要开会",
    "下午喝杯绿茶",
    "서울은 오늘 맑아요",
    "新しいカメラを買った",
    "深圳的夏天很热",
    "最近在学Python",
]

SEED_EXTRA = """
import random
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from microblog.models import Post, PostAncestor
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
rng = random.Random(7)
phrases = {phrases!r}
authors = list(User.objects.values_list("id", flat=True)[:2000])
parents = list(Post.objects.filter(repost_of__isnull=True).values_list("id", flat=True)[:50000])
now = timezone.now()
rows = []
for n in range({count}):
    body = "，".join(rng.sample(phrases, 3))
    if n % 5 == 0:
        body += " and coffee " + str(n)
    if n < 12:
        body += " a quokka smiled"
    when = now - timedelta(seconds=rng.randrange(7 * 86400))
    # Half are replies: seed_bench makes none, and with reply_to all NULL the planner's statistics
    # say its index is useless (SQLite then scans the table for each post's reply count).
    parent = rng.choice(parents) if n % 2 else None
    rows.append(Post(author_id=rng.choice(authors), body=body, html=body, created_at=when, reply_to_id=parent))
made = Post.objects.bulk_create(rows, batch_size=5000)
PostAncestor.objects.bulk_create(
    [PostAncestor(post_id=p.pk, ancestor_id=p.reply_to_id, depth=1, via_repost=False) for p in made if p.reply_to_id],
    batch_size=5000,
)
# Statistics first: the database's (a copy of the feed benchmark's, say) may say from a corpus with no
# replies that reply_to's index is useless, and the update below would scan the table per parent.
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
# Each parent's reply_count, as post_create keeps it (every alive reply): the API shows a post's
# replies from it (a post none are stored for shows 0 without counting).
Post.objects.filter(pk__in={{p.reply_to_id for p in made if p.reply_to_id}}).update(
    reply_count=Subquery(
        Post.objects.filter(reply_to_id=OuterRef("pk"), deleted_at__isnull=True)
        .order_by().values("reply_to_id").annotate(n=Count("pk")).values("n")
    )
)
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print("extra posts", len(rows))
"""


def env_for(url: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SEARCHES_PER_MINUTE_PER_ADDRESS="1000000",
        SEARCHES_PER_MINUTE_PER_USER="1000000",
        POSTS_PER_HOUR="1000000",
        **extra,
    )
    return env


def database_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{OUT / f'search-{size}.sqlite3'}"
    name = f"search_bench_{size}"
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE}/{name}"


def manage(env: dict, *args: str, capture: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    )
    return done.stdout if capture else ""


def build(kind: str, size: int) -> tuple[dict, dict]:
    """The database ready (seeded, the CJK posts added, indexed), each step done once and skipped
    afterwards (so a copy of the feed benchmark's database of that size skips the long seeding);
    {"seed_s", "extra_s", "index_s"} for what this run did."""
    env = env_for(database_url(kind, size))
    manage(env, "migrate", "-v0")
    probe = (
        "from accounts.models import User; from microblog.models import Post; "
        "print('SEEDED', User.objects.filter(username='bench0').exists()); "
        "print('EXTRA', Post.objects.filter(body__contains='quokka').exists())"
    )
    state = manage(env, "shell", "-c", probe, capture=True)
    indexed_mark = OUT / f"search-{kind}-{size}.indexed"
    built = {}
    if "SEEDED True" not in state:
        started = time.monotonic()
        manage(env, "seed_bench", "--users", str(max(size // 20, 100)), "--posts", str(size), "--no-reads")
        built["seed_s"] = time.monotonic() - started
    if "EXTRA True" not in state:
        started = time.monotonic()
        manage(env, "shell", "-c", SEED_EXTRA.format(phrases=PHRASES, count=size // 10))
        built["extra_s"] = time.monotonic() - started
        indexed_mark.unlink(missing_ok=True)
    if not indexed_mark.exists():
        started = time.monotonic()
        manage(env, "search_rebuild")
        built["index_s"] = time.monotonic() - started
        indexed_mark.touch()
    return env, built


def token(env: dict) -> str:
    code = (
        "from accounts.models import User; from accounts.services import token_for; "
        "print('TOKEN', token_for(user=User.objects.get(username='bench0')).key)"
    )
    out = manage(env, "shell", "-c", code, capture=True)
    return next(line.split()[1] for line in out.splitlines() if line.startswith("TOKEN"))


class Http:
    """One keep-alive connection with the token."""

    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection(harness.HOST, port, timeout=60)
        self.headers = {"Authorization": f"Token {key}", "Accept": "application/json"}

    def timed(self, method: str, path: str, body: dict | None = None) -> tuple[float, dict]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status in (200, 201), (response.status, payload[:300])
        return elapsed, json.loads(payload)


def measure(kind: str, size: int, requests: int) -> dict:
    env, built = build(kind, size)
    key = token(env)
    logs = OUT / f"search-{kind}-{size}"
    logs.mkdir(parents=True, exist_ok=True)
    indexed_port, plain_port = harness.free_port(), harness.free_port()
    indexed = harness.start_ours(indexed_port, env, logs / "indexed.log")
    plain = harness.start_ours(
        plain_port, {**env, "SEARCH_BACKEND": "search.backends.base.NullBackend"}, logs / "plain.log"
    )
    try:
        client, plain_client = Http(indexed_port, key), Http(plain_port, key)
        queries = {}
        for name, term in TERMS.items():
            path = f"/api/search/?q={quote(term)}"
            for _ in range(5):  # warm-up: imports, connections, the page cache
                client.timed("GET", path)
            times, found = [], 0
            for _ in range(requests):
                elapsed, body = client.timed("GET", path)
                times.append(elapsed)
                found = len(body["posts"]) + len(body["users"])
            queries[name] = {
                "term": term,
                "p50": harness.pct(times, 50),
                "p99": harness.pct(times, 99),
                "found": found,
            }
            print(
                f"{kind} {size} {name!r}: p50 {queries[name]['p50']:.1f} ms, p99 {queries[name]['p99']:.1f} ms",
                flush=True,
            )
        # The reference: a page of 20 posts presented (author, counts, the viewer's flags, photos)
        # without any search: what every search that finds 20 posts pays on top of finding them.
        for _ in range(5):
            client.timed("GET", "/api/timeline/public/")
        times = [client.timed("GET", "/api/timeline/public/")[0] for _ in range(requests)]
        queries["reference: public timeline page, no search"] = {
            "term": "",
            "p50": harness.pct(times, 50),
            "p99": harness.pct(times, 99),
            "found": 20,
        }
        with_index, without = [], []
        for n in range(max(60, requests // 2)):
            body = {"body": f"benchmark post {n} 今天北京天气很好 with coffee"}
            with_index.append(client.timed("POST", "/api/posts/", body)[0])
            without.append(plain_client.timed("POST", "/api/posts/", body)[0])
        posts = {"with": harness.pct(with_index, 50), "without": harness.pct(without, 50)}
        print(
            f"{kind} {size} post creation p50: {posts['with']:.1f} ms indexed, {posts['without']:.1f} ms not",
            flush=True,
        )
    except Exception:
        harness.print_log_tails(logs)
        raise
    finally:
        harness.stop(indexed)
        harness.stop(plain)
    load = os.getloadavg()
    return {"queries": queries, "posts": posts, "built": built, "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"}


def section(results: dict) -> str:
    lines = []
    for kind, sizes in results.items():
        lines += [f"### {'SQLite (FTS5)' if kind == 'sqlite' else 'PostgreSQL (tsvector + GIN)'}", ""]
        ordered = sorted(sizes, key=int)
        lines.append("| term | " + " | ".join(f"{int(s):,}: p50 / p99 ms" for s in ordered) + " | hits on page |")
        lines.append("|---|" + "---|" * len(ordered) + "---|")
        for name, term in [*TERMS.items(), ("reference: public timeline page, no search", "")]:
            cells = [
                f"{sizes[s]['queries'][name]['p50']:.1f} / {sizes[s]['queries'][name]['p99']:.1f}"
                for s in ordered
                if name in sizes[s]["queries"]
            ]
            found = sizes[ordered[-1]]["queries"].get(name, {}).get("found", "")
            label = f"{name} (`{term}`)" if term else name
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {found} |")
        lines.append("")
        if len(ordered) > 1:
            small, large = ordered[0], ordered[-1]
            ratios = ", ".join(
                f"{name} {sizes[large]['queries'][name]['p50'] / sizes[small]['queries'][name]['p50']:.2f}"
                for name in HEADLINE
            )
            lines += [f"p50 ratio {int(large):,} / {int(small):,}: {ratios}.", ""]
        for size in ordered:
            figures = sizes[size]
            posts = figures["posts"]
            built = figures["built"]
            steps = {"seed_s": "seeded", "extra_s": "CJK posts added", "index_s": "index built from scratch"}
            done = [f"{label} in {built[key]:.0f} s" for key, label in steps.items() if key in built]
            build_text = ", ".join(done) if done else "database and index from an earlier run"
            lines.append(
                f"- {int(size):,} posts (+{int(size) // 10:,} CJK): post creation p50 {posts['with']:.1f} ms with "
                f"the index vs {posts['without']:.1f} ms without ({posts['with'] / posts['without']:.2f}×); "
                f"{build_text}; load average during the run {figures['load']}."
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        path = OUT / f"search-results-{kind}.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        for size in (int(s) for s in args.sizes.split(",")):
            results[str(size)] = measure(kind, size, args.requests)
            path.write_text(json.dumps(results, indent=1))
    results = {}
    for kind in ("sqlite", "postgres"):
        path = OUT / f"search-results-{kind}.json"
        if path.exists():
            results[kind] = json.loads(path.read_text())
    harness.write_section(
        "Search",
        "make bench-search",
        "Over HTTP (one daphne, keep-alive, bench0's token), one request at a time; each figure is "
        f"{args.requests} requests after 5 of warm-up. Every query reads at most 200 index entries "
        "(search.selectors.CANDIDATES) before the visibility check.\n\n" + section(results),
    )


if __name__ == "__main__":
    main()
