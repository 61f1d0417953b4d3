"""Where does a photo fetch's time go in the worker? Drives GET /media/<key>/<variant> through the
ASGI application in this process (no server, no socket), timing each request, counting its
queries and, with --profile, a cProfile breakdown.

    .venv/bin/python bench/profile_media.py [--requests 2000] [--row ROW] [--profile] [--verbose]

The database and files are bench/media_bench.py's (the same seeding snippet), on a fresh temp
SQLite file and MEDIA_ROOT, MEDIA_SERVE=accel: what a worker behind nginx does, without daphne's
own parsing and writing (media_bench.py measures those too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, SEED_PRELUDE, pct

ROWS = ("message", "followers", "public", "missing", "session")


def setup(tmp: Path) -> dict:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"sqlite:///{tmp / 'p.sqlite3'}",
            "DEBUG": "false",
            "MEDIA_ROOT": str(tmp / "media"),
            "MEDIA_SERVE": "accel",
        }
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from media_bench import SETUP

    call_command("migrate", "--noinput", verbosity=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(SEED_PRELUDE + SETUP, {})  # noqa: S102 - the benchmark's own seeding snippet
    line = next(line for line in out.getvalue().splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line.split(" ", 1)[1])


def scope_for(path: str, headers: dict[str, str]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def one(application, scope: dict) -> tuple[int, dict]:
    sent: list[dict] = []
    request_sent = False
    disconnected = asyncio.Event()

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)
    disconnected.set()
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}


async def run(args, data) -> None:
    from asgiref.sync import SyncToAsync
    from django.db.backends.signals import connection_created

    from config.asgi import application, django_asgi_app

    # Queries run in whichever thread the worker uses: each new connection gets a counting wrapper.
    counted = {"connections": 0, "queries": []}

    def count(execute, sql, params, many, context):
        counted["queries"].append(sql)
        return execute(sql, params, many, context)

    def on_connection(sender, connection, **kwargs):
        counted["connections"] += 1
        connection.execute_wrappers.append(count)

    connection_created.connect(on_connection, weak=False)

    # cProfile sees one thread: each call handed to another thread (by asgiref, or to the pool
    # of config.pooled) is profiled on its own.
    profiling: list[bool] = []
    in_threads: list[cProfile.Profile] = []

    def profiled(function):
        def call(*call_args, **call_kwargs):
            if not profiling:
                return function(*call_args, **call_kwargs)
            profile = cProfile.Profile()
            profile.enable()
            try:
                return function(*call_args, **call_kwargs)
            finally:
                profile.disable()
                in_threads.append(profile)

        return call

    SyncToAsync.thread_handler = profiled(SyncToAsync.thread_handler)
    if hasattr(django_asgi_app, "respond"):
        django_asgi_app.respond = profiled(django_asgi_app.respond)

    member_token = {"Authorization": f"Token {data['tokens'][str(data['member'])]}"}
    keys = data["keys"]
    rows = {
        "message": (f"/media/{keys['message']}/display", member_token, 200),
        "followers": (f"/media/{keys['followers']}/display", member_token, 200),
        "public": (f"/media/{keys['public']}/display", {}, 200),
        "missing": ("/media/no-such-key/display", member_token, 404),
        "session": (f"/media/{keys['message']}/display", {"Cookie": f"sessionid={data['session']}"}, 200),
    }
    chosen = [args.row] if args.row else list(ROWS)
    for name in chosen:
        path, headers, status = rows[name]
        scope = scope_for(path, headers)
        got, response_headers = await one(application, scope)
        if got != status:
            raise RuntimeError(f"{name}: {got}, expected {status}")
        counted["queries"].clear()
        before = counted["connections"]
        await one(application, scope)
        queries, opened = list(counted["queries"]), counted["connections"] - before
        took = []
        profile = cProfile.Profile() if args.profile else None
        in_threads.clear()
        for _ in range(args.requests):
            started = time.perf_counter()
            if profile:
                profiling.append(True)
                profile.enable()
            await one(application, scope)
            if profile:
                profile.disable()
                profiling.clear()
            took.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:10} p50 {pct(took, 50):6.3f} ms  p99 {pct(took, 99):6.3f} ms  "
            f"queries {len(queries)}, connections opened {opened}"
        )
        if args.verbose:
            for query in queries:
                print("   ", query[:300])
            print("   ", response_headers)
        if profile:
            print("--- the event loop's thread")
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
            print("--- the sync threads (middleware, view, signals)")
            pstats.Stats(*in_threads).sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--row", choices=ROWS)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--verbose", action="store_true", help="print the queries and headers")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-prof-media-"))
    try:
        data = setup(tmp)
        asyncio.run(run(args, data))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
