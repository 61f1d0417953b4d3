"""Connect storm (issue 21): every client of a worker reconnects and resumes at once.

One daphne worker (-v0, 127.0.0.1), on the embedded default (a temp SQLite file, the in-memory
layer, as `make run`) and/or on PostgreSQL + Redis (`--database postgres`: DATABASE_URL's server,
database `storm_bench` made afresh; REDIS_URL, under a key prefix of the run's own; the default
pub/sub layer).
`--clients` sockets spread over `--users` users (in contact pairs, `--clients / --users` sockets
each), all driven by this one process:

1. Ramp: the sockets open in steps of `--step`, `--in-flight` handshakes at a time, up to all but
   the last step (9,000 of 10,000): each step's connect rate shows the curve. Then, in turns
   (`--rounds`), a batch of `--step` connects into that worker and the same into a second worker
   with nothing open (each batch closed again after), so both rates see the same machine load.
   Target: the median rate beside 9,000 open within 1.2x of the median into the empty worker.
   The last step then opens for good.
2. Storm: the worker is stopped (SIGTERM) and every socket drops; while it is down each user is
   sent `--events` messages in their pair's conversation (stored events, with `seq`). The worker
   starts again and every client reconnects as static/js/socket.js does: after 0.5 s x U(0.75,
   1.25), doubling (jittered, at most 15 s) after each failed attempt; on open it sends
   `resume {after: the last seq it saw}` and is done at `resume.done`. Timed from the moment the
   worker listens again to the last `resume.done`. Target: within 20 s, with every missed seq
   received exactly once on every socket (0 lost, 0 duplicated).

Prints a table, writes bench/out/storm-KIND.json (read by bench/summary.py) and the
"## Connect storm" section of bench/RESULTS.md (command, time, `uptime`).

    .venv/bin/python bench/storm_bench.py                        # SQLite + in-memory, 10,000 clients
    .venv/bin/python bench/storm_bench.py --database postgres    # DATABASE_URL / REDIS_URL servers
    .venv/bin/python bench/storm_bench.py --clients 2000 --step 500   # a lighter run
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from harness import (
    HOST,
    ROOT,
    cpu_seconds,
    free_port,
    migrate_and_seed,
    pct,
    print_log_tails,
    raise_fd_limit,
    start_ours,
    stop,
    write_section,
)
from websockets.asyncio.client import connect

OUT = ROOT / "bench" / "out"
HEADING = "Connect storm"
# The worker as `make run` starts it (the Makefile's DAPHNE), at verbosity 0 like every benchmark's.
TARGET_STORM_SECONDS = 20.0
TARGET_RATE_RATIO = 1.2
# static/js/socket.js: the first retry after 0.5 s, doubling, at most 15 s, each x U(0.75, 1.25).
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 15.0

SEED = r"""
from accounts.models import User
from realtime.models import UserStream

users = [make_user(f"s{i}") for i in range(%(users)d)]
pairs = [(users[i], users[i + 1], befriend(users[i], users[i + 1]).pk) for i in range(0, len(users), 2)]
report({
    "tokens": {u.pk: token_for(user=u).key for u in users},
    "pairs": [[a.pk, b.pk, conv] for a, b, conv in pairs],
    "seq": dict(UserStream.objects.values_list("user_id", "last_seq")),
})
"""

# While the worker is down: each member of each pair sends `events / 2` messages (each user gets them all).
MISSED = r"""
from accounts.models import User
from chat.services import OutgoingMessage, message_send_many
from realtime.models import UserStream

people = {u.pk: u for u in User.objects.filter(username__startswith="s")}
pairs = %(pairs)s
sends = [
    OutgoingMessage(sender=people[uid], conversation_id=conv, body=f"missed {n}", client_id=f"m{uid}-{n}")
    for a, b, conv in pairs for n in range(%(per_member)d) for uid in (a, b)
]
for start in range(0, len(sends), 500):
    message_send_many(sends=sends[start : start + 500])
report({"tokens": {}, "seq": dict(UserStream.objects.values_list("user_id", "last_seq"))})
"""


def start_worker(port: int, env: dict, log: Path) -> subprocess.Popen:
    return start_ours(port, env, log, append=True)


class StormClient:
    """One socket of one user: connects, resumes, and checks every seq it is sent."""

    def __init__(self, url: str, user: int, last_seq: int):
        self.url, self.user, self.last_seq = url, user, last_seq
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.seqs: list[int] = []  # every seq received since the storm began, in order
        self.resumed = asyncio.Event()
        self.attempts = 0
        self.errors: list[dict] = []
        self.failures: collections.Counter[str] = collections.Counter()  # why attempts failed

    async def open(self) -> None:
        self.attempts += 1
        self.ws = await connect(
            self.url, compression=None, proxy=None, ping_interval=None, max_queue=None, open_timeout=60
        )
        self.ws.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = orjson.loads(raw)
                seq = frame.get("seq")
                if seq is not None:
                    self.seqs.append(seq)
                    self.last_seq = max(self.last_seq, seq)
                kind = frame.get("type")
                if kind == "resume.done":
                    self.resumed.set()
                elif kind == "error":
                    self.errors.append(frame)
                    # Refused for now, or the replay failed ("resume again"): as a client would, resume again.
                    if frame.get("code") in ("rate_limited", "server_error"):
                        await asyncio.sleep(frame.get("retry_after", 1))
                        await self.ws.send(orjson.dumps({"type": "resume", "after": self.last_seq}).decode())

    async def reconnect_and_resume(self) -> float:
        """socket.js's loop: jittered doubling backoff until a socket opens and its resume is done."""
        backoff = FIRST_BACKOFF
        while True:
            await asyncio.sleep(backoff * random.uniform(0.75, 1.25))
            backoff = min(backoff * 2, MAX_BACKOFF)
            try:
                await self.open()
                await self.ws.send(orjson.dumps({"type": "resume", "after": self.last_seq}).decode())
                done = asyncio.create_task(self.resumed.wait())
                await asyncio.wait([done, self.reader], return_when=asyncio.FIRST_COMPLETED)
                if self.resumed.is_set():
                    return time.monotonic()
                done.cancel()  # the socket closed before resume.done: try again
                self.failures[f"closed before resume.done ({self.ws.close_code})"] += 1
            except Exception as error:  # refused, reset, timed out: the client retries, as socket.js does
                self.failures[str(getattr(error, "rcvd", None) or error)[:60]] += 1

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader


async def ramp(clients: list[StormClient], step: int, in_flight: int) -> list[dict]:
    """Opens the clients `step` at a time; each step's rate and handshake times."""
    steps = []
    gate = asyncio.Semaphore(in_flight)

    async def one(client: StormClient) -> float:
        async with gate:
            started = time.perf_counter()
            await client.open()
            return time.perf_counter() - started

    for start in range(0, len(clients), step):
        batch = clients[start : start + step]
        began = time.perf_counter()
        times = await asyncio.gather(*(one(c) for c in batch))
        took = time.perf_counter() - began
        steps.append(
            {
                "open_before": start,
                "sockets": len(batch),
                "seconds": took,
                "rate": len(batch) / took,
                "p50_ms": pct(times, 50) * 1000,
                "p99_ms": pct(times, 99) * 1000,
            }
        )
        print(f"  {start:>6} -> {start + len(batch):>6} open: {len(batch) / took:7.1f}/s", flush=True)
    return steps


async def alternate(
    full: list[StormClient], empty: list[StormClient], in_flight: int, rounds: int, pids: dict[str, int]
) -> dict:
    """Connect rates into the worker holding the ramp's sockets and into a second, empty worker,
    in turns (`rounds` batches each), so both see the same machine load; the median of each. And
    each worker's CPU per connect over its batches (`pids`: the two workers' processes), which the
    machine's load moves less than a rate."""
    gate = asyncio.Semaphore(in_flight)

    async def one(client: StormClient) -> None:
        async with gate:
            await client.open()

    rates: dict[str, list[float]] = {"full": [], "empty": []}
    cpu: dict[str, float] = {"full": 0.0, "empty": 0.0}
    for _ in range(rounds):
        for which, batch in (("full", full), ("empty", empty)):
            # This client holds the 9,000 sockets' objects: a full collection of its own in the
            # middle of a batch would be timed as the worker's. Collected before, none during.
            gc.collect()
            gc.disable()
            try:
                began, cpu_began = time.perf_counter(), cpu_seconds(pids[which])
                await asyncio.gather(*(one(c) for c in batch))
                rates[which].append(len(batch) / (time.perf_counter() - began))
            finally:
                gc.enable()
            cpu[which] += cpu_seconds(pids[which]) - cpu_began
            await asyncio.gather(*(c.close() for c in batch))
            await asyncio.sleep(1)  # the worker handles the closes before the next batch
    medians = {which: sorted(values)[len(values) // 2] for which, values in rates.items()}
    cpu_ms = {f"cpu_ms_{which}": seconds / (len(full) * rounds) * 1000 for which, seconds in cpu.items()}
    return medians | cpu_ms | {"rounds": rates}


async def storm(clients: list[StormClient], listening_at: float) -> dict:
    finished = await asyncio.gather(*(c.reconnect_and_resume() for c in clients))
    times = [t - listening_at for t in finished]
    return {
        "seconds": max(times),
        "p50_s": pct(times, 50),
        "p90_s": pct(times, 90),
        "attempts": sum(c.attempts for c in clients) - len(clients),  # retries: past one attempt each
    }


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """The worker's CPU seconds (since it started) by thread, largest first: "loop" is the main thread
    (daphne's event loop); the others (the database thread, presence's, the cache's) by thread id."""
    by_thread = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            by_thread["loop" if task.name == str(pid) else task.name] = cpu_seconds_of(task / "stat")
    return {name: round(cpu, 2) for name, cpu in sorted(by_thread.items(), key=lambda item: -item[1])[:6]}


def cpu_seconds_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tally(clients: list[StormClient], before: dict[int, int], after: dict[int, int]) -> dict:
    lost = duplicated = expected = 0
    for client in clients:
        want = range(before[client.user] + 1, after[client.user] + 1)
        expected += len(want)
        got = client.seqs
        lost += len(set(want) - set(got))
        duplicated += len(got) - len(set(got))
    return {"expected": expected, "lost": lost, "duplicated": duplicated}


def worker_env(kind: str, db: Path, args) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        # A prefix of this run's own in Redis: nothing of an earlier run (presence counts) is read back.
        "CHANNEL_PREFIX": f"storm{os.getpid()}",
        "CACHE_PREFIX": f"storm{os.getpid()}",
    }
    if kind == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db}"
        env.pop("REDIS_URL", None)
    else:
        env["DATABASE_URL"] = args.postgres_url.rsplit("/", 1)[0] + "/" + args.pg_database
        env["REDIS_URL"] = args.redis_url
    for item in args.ours_env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def fresh_database(args) -> None:
    import psycopg

    with psycopg.connect(args.postgres_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{args.pg_database}"')
        connection.execute(f'CREATE DATABASE "{args.pg_database}"')


async def drive(args, kind: str, tmp: Path) -> dict:
    env = worker_env(kind, tmp / "storm.sqlite3", args)
    if kind == "postgres":
        fresh_database(args)
    print(f"{kind}: seeding {args.users} users", flush=True)
    data = migrate_and_seed(env, SEED % {"users": args.users})
    seq0 = {int(k): v for k, v in data["seq"].items()}
    port = free_port()
    log = tmp / f"daphne-{kind}.log"
    server = start_worker(port, env, log)
    print(f"{kind}: worker pid {server.pid}", flush=True)
    users = sorted(data["tokens"])
    per_user = args.clients // len(users)
    clients = [
        StormClient(f"ws://{HOST}:{port}/ws/?token={data['tokens'][uid]}", uid, seq0[uid])
        for _ in range(per_user)
        for uid in users
    ]
    try:
        print(f"{kind}: ramp to {len(clients)} sockets", flush=True)
        held, extra = clients[: len(clients) - args.step], clients[len(clients) - args.step :]
        steps = await ramp(held, args.step, args.in_flight)
        print(f"{kind}: connect rates beside {len(held):,} open and into an empty worker, in turns", flush=True)
        other_port = free_port()
        other = start_worker(other_port, env, tmp / f"daphne-{kind}-empty.log")
        try:
            fresh = [StormClient(c.url.replace(f":{port}/", f":{other_port}/"), c.user, 0) for c in extra]
            turns = await alternate(extra, fresh, args.in_flight, args.rounds, {"full": server.pid, "empty": other.pid})
            print(
                f"{kind}: worker CPU per connect beside {len(held):,} open {turns['cpu_ms_full']:.2f} ms, "
                f"into the empty worker {turns['cpu_ms_empty']:.2f} ms",
                flush=True,
            )
        finally:
            stop(other)
        await ramp(extra, args.step, args.in_flight)
        await asyncio.sleep(1)
        stop(server)
        await asyncio.gather(*(c.close() for c in clients))
        for client in clients:
            client.seqs.clear()
            client.attempts = 0
        missed = migrate_and_seed(env, MISSED % {"pairs": data["pairs"], "per_member": args.events // 2})
        seq1 = {int(k): v for k, v in missed["seq"].items()}
        print(f"{kind}: worker restarted; {len(clients)} clients reconnect and resume", flush=True)
        server = start_worker(port, env, log)
        listening_at = time.monotonic()
        print(f"{kind}: worker pid {server.pid}", flush=True)
        cpu_before, client_cpu_before = cpu_seconds(server.pid), time.process_time()
        result = await asyncio.wait_for(storm(clients, listening_at), args.give_up)
        result["worker_cpu_s"] = cpu_seconds(server.pid) - cpu_before
        result["worker_threads_cpu_s"] = thread_cpu_seconds(server.pid)
        # This one process drives every client: if it used a core's worth, it and not the worker set the pace.
        result["client_cpu_s"] = time.process_time() - client_cpu_before
        result.update(tally(clients, seq0, seq1))
        result["errors"] = sum(len(c.errors) for c in clients)
        result["failures"] = dict(sum((c.failures for c in clients), collections.Counter()).most_common(5))
        print(f"{kind}: failed attempts: {result['failures']}", flush=True)
        threads = ", ".join(f"{name} {cpu:.2f}" for name, cpu in result["worker_threads_cpu_s"].items())
        print(f"{kind}: worker CPU {result['worker_cpu_s']:.2f} s, by thread (since start): {threads}", flush=True)
    except BaseException:
        print_log_tails(tmp)
        raise
    finally:
        await asyncio.gather(*(c.close() for c in clients))
        stop(server)
    return {
        "kind": kind,
        "clients": len(clients),
        "users": len(users),
        "events_per_user": args.events // 2 * 2,
        "steps": steps,
        "open_beside": len(clients) - args.step,
        "rate_empty": turns["empty"],
        "rate_full": turns["full"],
        "rate_ratio": turns["empty"] / turns["full"],
        "rate_rounds": turns["rounds"],
        "cpu_ms_per_connect_full": turns["cpu_ms_full"],
        "cpu_ms_per_connect_empty": turns["cpu_ms_empty"],
        "storm": result,
    }


def table(runs: list[dict], load: str) -> str:
    lines = [
        f"Load (`uptime`) before the run: {load}",
        "",
        "| setup | clients | connects/s into an empty worker | beside the others open | ratio (target <= 1.2) "
        "| storm: all resumed in (target <= 20 s) | p50 / p90 | retries | lost | duplicated | worker CPU "
        "| client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        s = run["storm"]
        setup = "SQLite + in-memory" if run["kind"] == "sqlite" else "PostgreSQL + Redis (pubsub)"
        lines.append(
            f"| {setup} | {run['clients']:,} ({run['users']:,} users) | {run['rate_empty']:.0f} "
            f"| {run['rate_full']:.0f} ({run['open_beside']:,} open) | {run['rate_ratio']:.2f} "
            f"| {s['seconds']:.1f} s | {s['p50_s']:.1f} / {s['p90_s']:.1f} s | {s['attempts']} "
            f"| {s['lost']} of {s['expected']:,} | {s['duplicated']} | {s['worker_cpu_s']:.1f} s "
            f"| {s['client_cpu_s']:.1f} s |"
        )
    lines.append("")
    for run in runs:
        rates = ", ".join(f"{step['open_before']:,}: {step['rate']:.0f}/s" for step in run["steps"])
        lines.append(f"- {run['kind']} ramp, connects/s by sockets already open: {rates}")
        lines.append(
            f"- {run['kind']} worker CPU per connect (the turns' batches), beside {run['open_beside']:,} open: "
            f"{run['cpu_ms_per_connect_full']:.2f} ms; into an empty worker: {run['cpu_ms_per_connect_empty']:.2f} ms"
        )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=2_500, help="even; sockets per user = clients / users")
    parser.add_argument("--events", type=int, default=2, help="missed events per user while the worker is down (even)")
    parser.add_argument("--step", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3, help="turns of --step connects, full and empty worker")
    parser.add_argument("--in-flight", type=int, default=20, help="handshakes at a time during the ramp")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL: its server gets a fresh database --pg-database",
    )
    parser.add_argument("--pg-database", default="storm_bench", help="the database made afresh on that server")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--give-up", type=float, default=600, help="seconds after which the storm counts as failed")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    raise_fd_limit(args.clients)  # daphne inherits it: it needs as many descriptors as this client
    load = subprocess.run(["/usr/bin/uptime"], capture_output=True, text=True).stdout.strip()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    runs = []
    with tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        for kind in kinds:
            run = asyncio.run(drive(args, kind, Path(tmp)))
            run["load"] = load
            runs.append(run)
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"storm-{kind}.json").write_text(json.dumps(run, indent=1))
    text = table(runs, load)
    print(text)
    if not args.no_write:
        write_section(HEADING, "make bench-storm", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
