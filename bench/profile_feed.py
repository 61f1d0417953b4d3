"""Where a feed page's time goes, in one process (no server): wall time, SQL time and queries per page.

    DATABASE_URL=sqlite:///bench/out/feed-100000.sqlite3 python bench/profile_feed.py [--requests 30] [--profile]

Runs GET /api/feed/ (ranked first page, a later ranked page, latest) and GET /api/timeline/public/
for `bench0` through DRF's APIClient with a token, after a warm-up, and prints per page: the p50
of the wall time, of this thread's CPU time (steadier than wall time on a loaded machine: time
spent waiting for a core is left out), of the time inside the database driver (every query timed
by an execute wrapper) and the number of queries. `--profile` adds a cProfile listing (cumulative) of the
ranked first page. What is not SQL is Python: building queries, making model instances,
serializing.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")


class SqlTimer:
    def __init__(self):
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--page", default="ranked first page", help="the page --profile profiles")
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.services import token_for

    viewer = User.objects.get(username="bench0")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=viewer).key}")

    def get(url: str):
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    def pages():
        first = get("/api/feed/?order=ranked")
        return {
            "ranked first page": "/api/feed/?order=ranked",
            "ranked later page": first["next"],
            "latest first page": "/api/feed/?order=latest",
            "public timeline": "/api/timeline/public/",
        }

    urls = pages()
    for _ in range(3):
        for url in urls.values():
            get(url)
    for name, url in urls.items():
        walls, cpus, sqls, counts = [], [], [], []
        for _ in range(args.requests):
            if name == "ranked later page":
                url = pages()["ranked later page"]
            timer = SqlTimer()
            with connection.execute_wrapper(timer):
                started, cpu_started = time.perf_counter(), time.thread_time()
                get(url)
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((time.thread_time() - cpu_started) * 1000)
            sqls.append(timer.seconds * 1000)
            counts.append(timer.count)
        wall, cpu, sql = statistics.median(walls), statistics.median(cpus), statistics.median(sqls)
        other = wall - sql
        print(
            f"{name:20} wall p50 {wall:6.1f} ms  CPU {cpu:6.1f} ms  SQL {sql:5.1f} ms  other {other:6.1f} ms  "
            f"queries {max(counts)}"
        )
    if args.profile:
        url = urls[args.page]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            get(url if args.page != "ranked later page" else pages()["ranked later page"])
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())


if __name__ == "__main__":
    main()
