"""Feed benchmark: page latency against corpus size, ranked vs latest, and ranking quality.

    python bench/feed_bench.py [--sizes 100000,1000000] [--database sqlite|postgres|both] [--requests 40] [--seed 1]

PostgreSQL: the server at $BENCH_PG_URL, databases named $BENCH_PG_PREFIX_<size> (feed_bench_<size>).

For each corpus size it builds (once; reused afterwards) a database with
`manage.py seed_bench --users size/20 --posts size`, then, in a fresh process on that
database, times GET /api/feed/ for `bench0` (who follows 300 accounts):
- ranked, first page (builds the ranking and stores its snapshot),
- ranked, a later page (reads the snapshot),
- latest, first page (the chronological baseline, same run).
Quality: the share of the first 20 items on a topic the viewer secretly cares about
(`microblog.simulation`), ranked vs latest, for bench0 and averaged over bench0..bench49.
Each database's figures are kept in bench/out/feed-results-KIND.json, so SQLite and
PostgreSQL may be measured in separate runs; every run rewrites the "## Feed" section of
bench/RESULTS.md (other sections are left alone) and the plot bench/feed_latency.png
(matplotlib, from requirements-bench.txt) from the latest figures of each database.

The feed's weights were tuned on the network of seed 1 (the default). `--seed N` builds and
measures another network of the same shape (its own databases, its own results file, its own
subsection in RESULTS.md; the plot stays on seed 1), so quality can be checked on a network the
weights have never seen.
"""

import argparse
import contextlib
import http.client
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import harness

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
PLOT = ROOT / "bench" / "feed_latency.png"
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
# The PostgreSQL databases' names start with this (several checkouts on one server keep theirs apart).
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "feed_bench")
QUALITY_VIEWERS = 50
DEFAULT_SEED = 1
PAGES = ("ranked first page", "ranked later page", "latest first page")


def env_for(url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="0", ALLOWED_HOSTS="127.0.0.1,testserver"
    )
    return env


def seed_suffix(seed: int, separator: str) -> str:
    """Seed 1's databases and results keep the names they had before seeds were an option."""
    return "" if seed == DEFAULT_SEED else f"{separator}seed{seed}"


def database_url(kind: str, size: int, seed: int) -> str:
    if kind == "sqlite":
        path = OUT / f"feed-{size}{seed_suffix(seed, '-')}.sqlite3"
        return f"sqlite:///{path}"
    name = f"{PG_PREFIX}_{size}{seed_suffix(seed, '_')}"
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE}/{name}"


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def build(kind: str, size: int, seed: int) -> tuple[dict, float | None]:
    env = env_for(database_url(kind, size, seed))
    manage(env, "migrate", "-v0")
    probe = "from accounts.models import User; print(User.objects.filter(username='bench0').exists())"
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True
    )
    if seeded.stdout.strip().endswith(b"True"):  # after Django 5.2's "N objects imported" line
        vacuum(kind, env)
        return env, None
    started = time.monotonic()
    # Latency only: the simulated reads (bench/feed_signal_bench.py uses them) would add ~14 rows a post.
    manage(
        env, "seed_bench", "--users", str(max(size // 20, 100)), "--posts", str(size), "--seed", str(seed), "--no-reads"
    )
    elapsed = time.monotonic() - started
    vacuum(kind, env)
    return env, elapsed


def vacuum(kind: str, env: dict) -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum leaves a table some time after a load. Without the
    visibility map a bulk load leaves unset, the planner prices every index-only scan as if it read
    the table too, and picked the primary key over the (author, -id) index for the network's newest
    posts (15 against 1 ms at 100k posts). Nothing to do on SQLite (seed_bench runs ANALYZE)."""
    if kind != "postgres":
        return
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def cpu_ms(pid: int) -> float:
    """CPU time the process has run so far, all its threads (Linux schedstat, nanoseconds), in ms."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


class Http:
    """One kept-alive connection to a worker, with bench0's token (as a mobile client sends it).

    Each request's wall time, and the worker's CPU time over it (read around it, outside the wall
    time): on a loaded machine the wall time is mostly waiting for a core, the CPU time is the work.
    """

    def __init__(self, port: int, key: str, pid: int):
        self.connection = http.client.HTTPConnection(harness.HOST, port, timeout=120)
        self.headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
        self.pid = pid
        self.last_cpu = 0.0

    def timed(self, url: str) -> tuple[float, dict]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        cpu_before = cpu_ms(self.pid)
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        self.last_cpu = cpu_ms(self.pid) - cpu_before
        assert response.status == 200, (response.status, payload[:300])
        return elapsed, json.loads(payload)


def latencies(clients: dict[str, Http], requests: int) -> tuple[dict, dict]:
    """Each worker's page times and CPU times, the workers taking turns request by request (same machine load)."""
    for client in clients.values():
        for _ in range(3):  # warm-up: connections, imports, SQLite page cache
            client.timed("/api/feed/?order=ranked")
            client.timed("/api/feed/?order=latest")
    series = {name: {page: [] for page in PAGES} for name in clients}
    cpu = {name: {page: [] for page in PAGES} for name in clients}

    def timed(name: str, page: str, url: str) -> dict:
        elapsed, body = clients[name].timed(url)
        series[name][page].append(elapsed)
        cpu[name][page].append(clients[name].last_cpu)
        return body

    for _ in range(requests):
        for name in clients:
            # A first page (no cursor) always ranks afresh; the trending list keeps its own 10-second cache.
            body = timed(name, "ranked first page", "/api/feed/?order=ranked")
            timed(name, "ranked later page", body["next"])
            timed(name, "latest first page", "/api/feed/?order=latest")
    return series, cpu


def measure(requests: int, seed: int, before: str | None) -> dict:
    """Runs inside the benchmark database's own process (see `main`); `seed` built that database.

    Latency over HTTP: a daphne worker of this checkout (and with `before`, one of that
    checkout, on the same database, taking turns), GET /api/feed/ with bench0's token.
    """
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.services import token_for
    from microblog.models import Follow, Post
    from microblog.simulation import interests_of, topic_of

    def client_of(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    viewer = User.objects.get(username="bench0")
    key = token_for(user=viewer).key
    logs = OUT / "feed-workers"
    logs.mkdir(parents=True, exist_ok=True)
    roots = {"ours": ROOT, **({"before": Path(before).resolve()} if before else {})}
    workers, clients = {}, {}
    try:
        for name, root in roots.items():
            port = harness.free_port()
            workers[name] = harness.start_daphne(
                "config.asgi:application", port, logs / f"{name}.log", cwd=root, env=dict(os.environ)
            )
            clients[name] = Http(port, key, workers[name].pid)
        series, cpu = latencies(clients, requests)
    except Exception:
        harness.print_log_tails(logs)
        raise
    finally:
        for worker in workers.values():
            harness.stop(worker)

    originals = {}

    def share(user, order: str) -> float:
        items = client_of(user).get(f"/api/feed/?order={order}&limit=20").json()["results"]
        ids = [
            item["post"]["original"] if not item["post"]["body"] and item["post"]["original"] else item["post"]["id"]
            for item in items
        ]
        missing = [pk for pk in ids if pk not in originals]
        originals.update(dict(Post.objects.filter(pk__in=missing).values_list("id", "body")))
        index = int(user.username.removeprefix("bench"))
        liked = interests_of(index, seed=seed)
        return sum(topic_of(originals[pk]) in liked for pk in ids) / max(len(ids), 1)

    viewers = list(User.objects.filter(username__in=[f"bench{i}" for i in range(QUALITY_VIEWERS)]))
    viewers = [u for u in viewers if Follow.objects.filter(follower=u).count() >= 10]
    quality = {order: [share(u, order) for u in viewers] for order in ("ranked", "latest")}

    def summary(times: dict[str, list[float]]) -> dict:
        return {name: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99)} for name, v in times.items()}

    return {
        "posts": Post.objects.count(),
        "users": User.objects.count(),
        "following": Follow.objects.filter(follower=viewer).count(),
        "latency": summary(series["ours"]),
        **({"before": summary(series["before"])} if "before" in series else {}),
        "worker_cpu": {name: summary(pages) for name, pages in cpu.items()},
        "load": os.getloadavg()[0],
        "quality_bench0": {order: quality[order][[u.pk for u in viewers].index(viewer.pk)] for order in quality},
        "quality_mean": {order: statistics.mean(values) for order, values in quality.items()},
        "quality_viewers": len(viewers),
    }


def write_results(text: str) -> None:
    """Replaces the "## Feed" section of RESULTS.md (or appends it), leaving the rest alone."""
    existing = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = existing.find("\n## Feed\n")
    if start == -1:
        updated = existing.rstrip("\n") + "\n\n" + text
    else:
        end = existing.find("\n## ", start + 1)
        updated = existing[: start + 1] + text + (existing[end + 1 :] if end != -1 else "")
    RESULTS.write_text(updated.rstrip("\n") + "\n")


def report(kind: str, rows: list[tuple[int, dict, float | None]], intro: str) -> str:
    lines = [
        f"### {kind}",
        "",
        intro,
        "",
        "| posts | users | bench0 follows | ranked first page p50 / p99 | ranked later page p50 / p99 "
        "| latest p50 / p99 | seeding |",
        "|---:|---:|---:|---|---|---|---|",
    ]
    for _, result, seeded in rows:
        lat = result["latency"]
        cells = [f"{lat[name]['p50']:.1f} / {lat[name]['p99']:.1f} ms" for name in lat]
        seeding = f"{seeded:.0f} s" if seeded is not None else "(reused)"
        lines.append(
            f"| {result['posts']:,} | {result['users']:,} | {result['following']} | "
            + " | ".join(cells)
            + f" | {seeding} |"
        )
    if any("before" in result for _, result, _ in rows):
        lines += ["", "The `--before` checkout's worker, same run, same database, taking turns with ours:", ""]
        lines += ["| posts | ranked first page p50 / p99 | ranked later page p50 / p99 | latest p50 / p99 |"]
        lines += ["|---:|---|---|---|"]
        for _, result, _ in rows:
            if "before" in result:
                cells = [
                    f"{result['before'][name]['p50']:.1f} / {result['before'][name]['p99']:.1f} ms" for name in PAGES
                ]
                lines.append(f"| {result['posts']:,} | " + " | ".join(cells) + " |")
    if any("worker_cpu" in result for _, result, _ in rows):
        lines += [
            "",
            "The worker's CPU time per page, p50 (every thread of the daphne process, read around each "
            "request): what a page costs the server, without the waiting for a core that a loaded "
            "machine adds to the wall times above.",
            "",
            "| posts | worker | ranked first page | ranked later page | latest |",
            "|---:|---|---:|---:|---:|",
        ]
        for _, result, _ in rows:
            for worker, pages in result.get("worker_cpu", {}).items():
                cells = [f"{pages[name]['p50']:.1f} ms" for name in PAGES]
                lines.append(f"| {result['posts']:,} | {worker} | " + " | ".join(cells) + " |")
    lines += ["", *targets(rows)]
    small, large = rows[0][1], rows[-1][1]
    lines.append("")
    for name in small["latency"]:
        ratio = large["latency"][name]["p50"] / small["latency"][name]["p50"]
        lines.append(f"- {name}: p50 ratio {large['posts']:,} / {small['posts']:,} posts = **{ratio:.2f}**")
    for _, result, _ in rows:
        q0, qm = result["quality_bench0"], result["quality_mean"]
        lines.append(
            f"- quality at {result['posts']:,} posts (share of the first 20 items on the viewer's hidden interests): "
            f"bench0 ranked {q0['ranked']:.2f} vs latest {q0['latest']:.2f}; mean over {result['quality_viewers']} "
            f"viewers ranked {qm['ranked']:.2f} vs latest {qm['latest']:.2f} "
            f"(**{qm['ranked'] / max(qm['latest'], 1e-9):.2f}×**)"
        )
    lines.append("")
    return "\n".join(lines)


# Issue 21's feed targets: (what, the figure, the bound, "max" or "min").
def targets(rows: list) -> list[str]:
    """The targets as figure / bound, met or missed (a ratio ≤ 1 meets a "max" bound, ≥ 1 a "min" one)."""
    small, large = rows[0][1], rows[-1][1]
    lat = large["latency"]
    checks = [
        (f"ranked first page p50 at {large['posts']:,} posts", lat["ranked first page"]["p50"], 25.0, "max", "ms"),
        (f"latest first page p50 at {large['posts']:,} posts", lat["latest first page"]["p50"], 15.0, "max", "ms"),
        (f"ranked later page p50 at {large['posts']:,} posts", lat["ranked later page"]["p50"], 10.0, "max", "ms"),
    ]
    if len(rows) > 1:
        for page in ("ranked first page", "latest first page"):
            growth = lat[page]["p50"] / small["latency"][page]["p50"]
            checks.append((f"{page} p50 {large['posts']:,} / {small['posts']:,} posts", growth, 1.2, "max", "×"))
    for _, result, _ in rows:
        quality = result["quality_mean"]["ranked"] / max(result["quality_mean"]["latest"], 1e-9)
        checks.append((f"quality ranked / latest at {result['posts']:,} posts", quality, 1.8, "min", "×"))
    lines = ["| target | figure | bound | figure / bound | |", "|---|---:|---:|---:|---|"]
    for what, figure, bound, kind, unit in checks:
        met = figure <= bound if kind == "max" else figure >= bound
        sign = "≤" if kind == "max" else "≥"
        lines.append(
            f"| {what} | {figure:.2f} {unit} | {sign} {bound:g} {unit} | {figure / bound:.2f} | "
            f"{'met' if met else '**missed**'} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the simulated network (weights tuned on 1)")
    parser.add_argument(
        "--before",
        help="another checkout (a directory, e.g. `git worktree add /tmp/before main`): its worker is measured "
        "too, on the same database, taking turns with ours",
    )
    parser.add_argument(
        "--write-only",
        action="store_true",
        help="measure nothing: rewrite the section of RESULTS.md and the plot from the figures kept in bench/out",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.requests, args.seed, args.before)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",")]
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if args.write_only:
        kinds = []
    for kind in kinds:
        load_before = os.getloadavg()[0]
        rows = []
        for size in sizes:
            env, seeded = build(kind, size, args.seed)
            measured = subprocess.run(
                [sys.executable, __file__, "--measure", "--requests", str(args.requests), "--seed", str(args.seed)]
                + (["--before", args.before] if args.before else []),
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(measured.stdout.strip().splitlines()[-1])
            rows.append((size, result, seeded))
            print(kind, size, json.dumps(result), flush=True)
        run = {
            "command": "python bench/feed_bench.py " + " ".join(sys.argv[1:]),
            "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load": [load_before, os.getloadavg()[0]],
            "requests": args.requests,
            "seed": args.seed,
            "rows": rows,
        }
        (OUT / f"feed-results-{kind}{seed_suffix(args.seed, '-')}.json").write_text(json.dumps(run))
    runs = {}  # "sqlite", "postgres", then any other seed's runs ("sqlite-seed7", "postgres-seed7")

    def shown_order(path: Path) -> tuple[bool, bool]:
        return ("-seed" in path.stem, "postgres" in path.stem)

    for kept in sorted(OUT.glob("feed-results-*.json"), key=shown_order):
        runs[kept.stem.removeprefix("feed-results-")] = json.loads(kept.read_text())
    plot({name: run for name, run in runs.items() if run.get("seed", DEFAULT_SEED) == DEFAULT_SEED})
    write_results(section(runs))


def plot(runs: dict) -> None:
    """Page latency (p50; p99 as a faint line) against corpus size, per feed order and database."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9.5, 4.5), dpi=120)
    styles = {"sqlite": "-", "postgres": "--"}
    colors = {"ranked first page": "tab:blue", "ranked later page": "tab:green", "latest first page": "tab:orange"}
    for kind, run in runs.items():
        posts = [result["posts"] for _, result, _ in run["rows"]]
        for name, color in colors.items():
            p50 = [result["latency"][name]["p50"] for _, result, _ in run["rows"]]
            p99 = [result["latency"][name]["p99"] for _, result, _ in run["rows"]]
            axes.plot(posts, p50, styles[kind], color=color, marker="o", label=f"{name}, {kind} (p50)")
            axes.plot(posts, p99, styles[kind], color=color, alpha=0.3, linewidth=1)
    axes.axhline(25, color="grey", linestyle=":", linewidth=1, label="target: ranked p50 25 ms (1M)")
    axes.set_xscale("log")
    axes.set_xlabel("posts in the database")
    axes.set_ylabel("GET /api/feed/ latency, ms (faint: p99)")
    axes.set_title("Feed page (20 items), viewer following 300 accounts")
    # Outside the axes, with handles long enough to tell solid (SQLite) from dashed (PostgreSQL).
    axes.legend(fontsize=7, handlelength=4, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(PLOT)


def section(runs: dict) -> str:
    parts = [
        "## Feed\n\n"
        "GET /api/feed/ over HTTP with bench0's token, one kept-alive connection to one daphne worker (`make run`'s "
        "settings, DEBUG off), local cache (locmem) for snapshots; quality in-process. "
        "Corpus: `seed_bench --users posts/20 --posts N` over 7 days; the "
        "feed window is 72 h, 600 in-network rows shared among the people followed (at least 3 each).\n\n"
        "![Feed page latency against corpus size, ranked and latest](feed_latency.png)\n\n"
        f"Machine: {os.cpu_count()} CPUs (AMD EPYC), {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; the load averages of each run are "
        "given below (a figure taken under load is several times the quiet one; compare within a run).\n"
    ]
    for name, run in runs.items():
        load = " → ".join(f"{value:.1f}" for value in run["load"])
        seed = run.get("seed", DEFAULT_SEED)
        held_out = (
            ""
            if seed == DEFAULT_SEED
            else f" Network of seed {seed}: held out, the weights were tuned on seed {DEFAULT_SEED}'s network."
        )
        intro = (
            f"Command: `{run['command'].strip()}` (also `make bench-feed`), finished {run['finished']}, "
            f"{run['requests']} requests per figure, load average {load}.{held_out}"
        )
        parts.append(report(name.replace("-seed", ", seed "), run["rows"], intro))
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
