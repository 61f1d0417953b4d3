"""What one small REST request costs through a live worker: GET /api/me/ and a message sent with
POST /api/conversations/{id}/messages/, one at a time, timed from outside.

Starts Tandem (SQLite and the in-memory layer, or whatever `--ours-env` says) as `make run` does,
sends `--count` of each, back to back and then with `--pause` seconds between requests, and prints
the p50 and p90 of each. On PostgreSQL it also prints how many sessions the server opened meanwhile
(`pg_stat_database.sessions`): Django's own ASGI handler opened one per request.

    .venv/bin/python bench/http_requests.py [--count 40] [--pause 0.5] [--ours-env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from harness import HOST, ROOT, free_port, migrate_and_seed, ours_env, pct, start_ours, stop

SETUP = r"""
a, b = make_user("ra"), make_user("rb")
conv = befriend(a, b)
report({"conv": conv.pk, "tokens": {a.pk: token_for(user=a).key}})
"""


def sessions(database_url: str) -> int | None:
    """The sessions PostgreSQL has opened on the database so far (None on SQLite), this one included."""
    if not database_url.startswith("postgres"):
        return None
    import psycopg

    with psycopg.connect(database_url) as connection:
        query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        return connection.execute(query).fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--pause", type=float, default=0.5)
    ap.add_argument("--ours-env", action="append", default=[])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-http-"))
    env = ours_env(tmp / "h.sqlite3", args.ours_env, PYTHONPATH=str(ROOT))
    proc = None
    try:
        data = migrate_and_seed(env, SETUP)
        [token] = data["tokens"].values()
        port = free_port()
        proc = start_ours(port, env, tmp / "ours.log")
        base = f"http://{HOST}:{port}"
        sent = iter(range(10**9))

        def me() -> None:
            urllib.request.urlopen(
                urllib.request.Request(f"{base}/api/me/", headers={"Authorization": f"Token {token}"})
            ).read()

        def send() -> None:
            n = next(sent)
            body = json.dumps({"body": f"hello {n}", "client_id": f"http-{n}"}).encode()
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            request = urllib.request.Request(f"{base}/api/conversations/{data['conv']}/messages/", body, headers)
            urllib.request.urlopen(request).read()

        me(), send()  # warm up: the worker's first request imports and builds what later ones reuse
        print(f"{args.count} of each, DATABASE_URL={env['DATABASE_URL'].partition(':')[0]}:")
        for pause in (0.0, args.pause):
            for name, call in (("GET /api/me/", me), ("POST a message", send)):
                before = sessions(env["DATABASE_URL"])
                times = []
                for _ in range(args.count):
                    time.sleep(pause)
                    started = time.perf_counter()
                    call()
                    times.append(1000 * (time.perf_counter() - started))
                opened = sessions(env["DATABASE_URL"])
                # Less the one this count opened.
                opened = "" if before is None else f", {opened - before - 1} database sessions opened"
                print(
                    f"  {name:16s} {pause:g} s apart: p50 {statistics.median(times):6.2f} ms, "
                    f"p90 {pct(times, 90):6.2f} ms{opened}"
                )
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
