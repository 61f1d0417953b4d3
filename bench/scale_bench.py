"""Scale benchmark: 1,000 sockets on one worker over channels-redis, both layers in one run.

For each channel layer (`CHANNEL_LAYER=core`: RedisChannelLayer, `pubsub`:
RedisPubSubChannelLayer) a fresh daphne worker (-v0) serves the same database through
the same private redis-server, and the same client measures, in this order:

1. Load: `--sockets` sockets (one per user, in direct pairs), then `--rate` messages a
   second among them (open loop, pairs taken in turn) for `--duration` seconds. Latency
   runs from the intended send time to the receipt at the other member. Errors: failed
   handshakes, closed sockets, `error` frames; lost / duplicated deliveries by client_id,
   and `seq` gaps per socket. Memory: the worker's RSS growth per open socket, and its
   peak during the load.
2. Backpressure: a group of `--group` members; one sender sends `--flood` messages at
   `--flood-rate`/s. First with every member reading (baseline), then again with one more
   member whose client never reads (its receive buffer small and full). Figures: the
   readers' p95 in both runs, the worker's RSS growth in both runs, and how the slow
   member catches up by reading what was queued and sending `resume`: lost, duplicated,
   seconds until caught up.

The layers take turns within one run, so they see the same machine. Results replace this
benchmark's section of the day in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from harness import (
    HOST,
    RESULTS,
    ROOT,
    Client,
    close_all,
    cpu_seconds,
    free_port,
    migrate_and_seed,
    pct,
    print_log_tails,
    raise_fd_limit,
    rss_kib,
    start_ours,
    stop,
    wait_port,
    write_section,
)
from websockets.asyncio.client import connect

LAYERS = {"core": "RedisChannelLayer", "pubsub": "RedisPubSubChannelLayer"}
SECTION = "Scale: 1,000 sockets, channel layers, backpressure"

SETUP = r"""
import uuid
from django.db import transaction
from rest_framework.authtoken.models import Token
from accounts.models import Contact, User
from chat.models import Conversation, Membership
from realtime.models import UserStream

run = uuid.uuid4().hex[:6]
def users(kind, n):
    made = User.objects.bulk_create([User(username=f"s{run}{kind}{i}", password="!") for i in range(n)])
    UserStream.objects.bulk_create([UserStream(user=u) for u in made], ignore_conflicts=True)
    Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in made])
    return made

def befriend_all(pairs):  # the contact rows alone, in bulk (the conversations are made below)
    links = [(a, b) for a, b in pairs] + [(b, a) for a, b in pairs]
    Contact.objects.bulk_create([Contact(user=a, contact=b) for a, b in links])

out = {}
with transaction.atomic():
    for layer in %(layers)r:
        people = users(f"{layer}p", %(sockets)d)
        pairs = list(zip(people[::2], people[1::2]))
        befriend_all(pairs)
        convs = Conversation.objects.bulk_create(
            [Conversation(kind="direct", direct_key=Conversation.key_for_pair(a.pk, b.pk), created_by=a)
             for a, b in pairs]
        )
        Membership.objects.bulk_create(
            [Membership(conversation=c, user=u) for c, (a, b) in zip(convs, pairs) for u in (a, b)]
        )
        group_members = users(f"{layer}g", %(group)d + 1)
        befriend_all([(group_members[0], m) for m in group_members[1:]])
        group = Conversation.objects.create(kind="group", title="flood", created_by=group_members[0])
        Membership.objects.bulk_create(
            [Membership(conversation=group, user=u, role="admin" if i == 0 else "member")
             for i, u in enumerate(group_members)]
        )
        out[layer] = {
            "pairs": [{"a": a.pk, "b": b.pk, "conv": c.pk} for c, (a, b) in zip(convs, pairs)],
            "group": {"conv": group.pk, "members": [u.pk for u in group_members]},
        }
out["tokens"] = dict(Token.objects.filter(user__username__startswith=f"s{run}").values_list("user_id", "key"))
report(out)
"""


# Servers ---------------------------------------------------------------------------------


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen([*command, "--dir", str(directory)], stdout=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, f"redis://{HOST}:{port}/0"


def worker_env(args, redis_url: str, layer: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER": layer,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        # The flood's one sender goes past the per-socket limit (20/s) on purpose.
        "CHAT_MESSAGES_PER_SECOND": "100000",
    }
    return env


def seed(env: dict, args) -> dict:
    return migrate_and_seed(env, SETUP % {"sockets": args.sockets, "group": args.group, "layers": args.layers})


def start_worker(env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    return start_ours(port, env, log), port


# Client ----------------------------------------------------------------------------------


class Stream:
    """What one socket saw: client_ids, seqs in order (gaps, repeats), errors, the close."""

    def __init__(self, user: int):
        self.user = user
        self.seen: dict[str, int] = {}
        self.last_seq: int | None = None
        self.gaps = 0
        self.repeats = 0
        self.errors = 0

    def take(self, frame: dict) -> str | None:
        kind = frame.get("type")
        if kind == "error":
            self.errors += 1
        if "seq" in frame:
            seq = frame["seq"]
            if self.last_seq is not None:
                if seq <= self.last_seq:
                    self.repeats += 1
                elif seq > self.last_seq + 1:
                    self.gaps += seq - self.last_seq - 1
            self.last_seq = max(seq, self.last_seq or 0)
        if kind == "message.new":
            cid = frame["message"]["client_id"]
            self.seen[cid] = self.seen.get(cid, 0) + 1
            return cid
        return None


class Worker:
    def __init__(self, layer: str, proc: subprocess.Popen, port: int, data: dict):
        self.layer, self.proc, self.port, self.data = layer, proc, port, data
        self.streams: dict[int, Stream] = {}  # client id -> stream
        self.on_delivery = None  # (client, cid, now)

    def url(self, user: int) -> str:
        return f"ws://{HOST}:{self.port}/ws/?token={self.data['tokens'][user]}"

    def client(self, user: int) -> Client:
        client = Client(self.url(user), self.route)
        self.streams[client.id] = Stream(user)
        return client

    def route(self, client: Client, frame: dict, now: float) -> None:
        cid = self.streams[client.id].take(frame)
        if cid is not None and self.on_delivery:
            self.on_delivery(client, cid, now)


class Sampler:
    """The worker's RSS (peak) and CPU while a phase runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = rss_kib(pid)
        self.task = asyncio.create_task(self.run())
        self.cpu0, self.t0 = cpu_seconds(pid), time.perf_counter()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.peak = max(self.peak, rss_kib(self.pid))

    def finish(self) -> dict:
        self.task.cancel()
        took = time.perf_counter() - self.t0
        used = cpu_seconds(self.pid) - self.cpu0
        return {"peak_kib": self.peak, "cpu_pct": 100 * used / took, "cpu_seconds": used, "seconds": took}


async def drained(expected: dict[int, set[str]], streams: dict[int, Stream], quiet: float) -> None:
    last, stamp = -1, time.monotonic()
    while True:
        missing = sum(1 for cid_set in expected.values() for _ in cid_set) - sum(
            1 for sid, cids in expected.items() for cid in cids if cid in streams[sid].seen
        )
        if missing == 0:
            return
        if missing != last:
            last, stamp = missing, time.monotonic()
        elif time.monotonic() - stamp > quiet:
            return
        await asyncio.sleep(0.2)


def losses(expected: dict[int, set[str]], streams: dict[int, Stream]) -> dict:
    lost = sum(1 for sid, cids in expected.items() for cid in cids if cid not in streams[sid].seen)
    dup = sum(n - 1 for sid in expected for n in streams[sid].seen.values() if n > 1)
    return {"expected": sum(len(c) for c in expected.values()), "lost": lost, "dup": dup}


async def open_retrying(clients: list[Client], concurrency: int = 10) -> int:
    """Opens every socket, each with retries as a real client would (daphne drops a handshake
    that waits 5 s: after 1,000 sockets close at once, the worker's one sync thread is busy
    with their presence bookkeeping for a while); returns how many handshakes failed."""
    gate = asyncio.Semaphore(concurrency)
    failures = 0

    async def one(client: Client) -> None:
        nonlocal failures
        async with gate:
            for attempt in range(60):
                try:
                    await client.open()
                    return
                except Exception as error:
                    failures += 1
                    print(f"  handshake failed (attempt {attempt + 1}): {error}", file=sys.stderr)
                    await asyncio.sleep(2.0)
            raise RuntimeError("a socket did not open in 60 attempts")

    await asyncio.gather(*(one(client) for client in clients))
    return failures


class Load:
    """`args.sockets` sockets on one worker, then slices of `args.rate` msgs/s among the pairs."""

    def __init__(self, worker: Worker, args):
        self.worker, self.args = worker, args
        self.pairs = worker.data["pairs"]
        self.clients: dict[int, Client] = {}
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.expected: dict[int, set[str]] = {}
        self.receiver_of: dict[str, int] = {}
        self.sent = 0
        self.failed_handshakes = 0
        self.cpu_seconds = self.busy_seconds = 0.0
        self.peak = 0

    async def open(self) -> None:
        pid = self.worker.proc.pid
        await asyncio.sleep(1.0)
        self.rss_before = rss_kib(pid)
        for pair in self.pairs:
            self.clients[pair["a"]] = self.worker.client(pair["a"])
            self.clients[pair["b"]] = self.worker.client(pair["b"])
        opened = time.perf_counter()
        self.failed_handshakes = await open_retrying(list(self.clients.values()))
        self.open_seconds = time.perf_counter() - opened
        await asyncio.sleep(2.0)
        self.rss_open = rss_kib(pid)
        self.worker.on_delivery = self.on_delivery

    def on_delivery(self, client, cid, now) -> None:
        if self.receiver_of.get(cid) == client.id:
            self.latencies.append(now - self.sent_at[cid])

    async def slice(self, seconds: float) -> None:
        """Offers `args.rate` msgs/s for `seconds` (open loop), pairs taken in turn, both directions."""
        sampler = Sampler(self.worker.proc.pid)
        rate = self.args.rate
        start = time.perf_counter() + 0.1
        for k in range(int(rate * seconds)):
            n = self.sent + k
            pair = self.pairs[n % len(self.pairs)]
            a, b = (pair["a"], pair["b"]) if (n // len(self.pairs)) % 2 == 0 else (pair["b"], pair["a"])
            intended = start + k / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = f"{self.worker.layer}{n}"
            self.sent_at[cid] = intended
            self.receiver_of[cid] = self.clients[b].id
            for member in (self.clients[a], self.clients[b]):
                self.expected.setdefault(member.id, set()).add(cid)
            frame = {"type": "message.send", "conversation": pair["conv"], "body": "x" * 40, "client_id": cid}
            with contextlib.suppress(Exception):
                await self.clients[a].send(frame)
        self.sent += int(rate * seconds)
        await asyncio.sleep(0.5)  # most of the slice's deliveries land before the other layer's turn
        usage = sampler.finish()
        self.peak = max(self.peak, usage["peak_kib"])
        self.cpu_seconds += usage["cpu_seconds"]
        self.busy_seconds += usage["seconds"]

    async def finish(self) -> dict:
        await drained(self.expected, self.worker.streams, self.args.drain)
        self.worker.on_delivery = None
        clients = list(self.clients.values())
        closed = sum(1 for c in clients if c.task is None or c.task.done())
        streams = [self.worker.streams[c.id] for c in clients]
        await close_all(clients)
        return {
            "sockets": len(clients),
            "open_s": self.open_seconds,
            "kib_per_socket": (self.rss_open - self.rss_before) / len(clients),
            "rss_before_mib": self.rss_before / 1024,
            "rss_open_mib": self.rss_open / 1024,
            "rss_peak_mib": self.peak / 1024,
            "cpu_pct": 100 * self.cpu_seconds / self.busy_seconds,
            "sent": self.sent,
            "p50": pct(self.latencies, 50) * 1000,
            "p99": pct(self.latencies, 99) * 1000,
            "max": max(self.latencies, default=float("nan")) * 1000,
            "failed_handshakes": self.failed_handshakes,
            "errors": closed + sum(s.errors for s in streams),
            "seq_gaps": sum(s.gaps for s in streams),
            "seq_repeats": sum(s.repeats for s in streams),
            **losses(self.expected, self.worker.streams),
        }


async def open_slow_reader(url: str) -> object:
    """A socket whose client never reads: a tiny receive buffer, and websockets stops reading at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, int(url.split(":")[2].split("/")[0])))
    return await connect(url, sock=sock, max_queue=1, compression=None, ping_interval=None, proxy=None)


async def flood(worker: Worker, args, slow: bool) -> dict:
    """`args.flood` group messages; with `slow`, one more member never reads until the end."""
    pid = worker.proc.pid
    group = worker.data["group"]
    members = group["members"]
    readers = [worker.client(uid) for uid in members[:-1]]
    await open_retrying(readers)
    slow_socket = await open_slow_reader(worker.url(members[-1])) if slow else None
    await asyncio.sleep(1.0)
    before = rss_kib(pid)
    sent_at: dict[str, float] = {}
    arrivals: dict[str, list[float]] = {}
    watched = {c.id for c in readers[1:]}
    expected = {c.id: set() for c in readers}

    def on_delivery(client, cid, now):
        if client.id in watched:
            arrivals.setdefault(cid, []).append(now - sent_at[cid])

    worker.on_delivery = on_delivery
    sampler = Sampler(pid)
    tag = f"{worker.layer}{'s' if slow else 'b'}"
    start = time.perf_counter() + 0.2
    for k in range(args.flood):
        intended = start + k / args.flood_rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        cid = f"{tag}{k}"
        sent_at[cid] = intended
        for reader in readers:
            expected[reader.id].add(cid)
        await readers[0].send(
            {"type": "message.send", "conversation": group["conv"], "body": "y" * 40, "client_id": cid}
        )
    await drained(expected, worker.streams, args.drain)
    usage = sampler.finish()
    worker.on_delivery = None
    latencies = [t for times in arrivals.values() for t in times]
    result = {
        "p50": pct(latencies, 50) * 1000,
        "p95": pct(latencies, 95) * 1000,
        "rss_growth_kib": usage["peak_kib"] - before,
        "cpu_pct": usage["cpu_pct"],
        **losses(expected, worker.streams),
    }
    if slow_socket is not None:
        result.update(await catch_up(slow_socket, tag, args.flood))
    await close_all(readers)
    return result


async def catch_up(ws, tag: str, total: int) -> dict:
    """The slow member reads what was queued for it, then resumes after its last seq in order."""
    began = time.perf_counter()
    seen: dict[str, int] = {}
    seqs: set[int] = set()

    def take(frame):
        if frame.get("type") == "message.new" and frame["message"]["client_id"].startswith(tag):
            cid = frame["message"]["client_id"]
            seen[cid] = seen.get(cid, 0) + 1
        if "seq" in frame:
            seqs.add(frame["seq"])

    queued = 0
    with contextlib.suppress(TimeoutError):
        while True:
            take(orjson.loads(await asyncio.wait_for(ws.recv(), 1.0)))
            queued += 1
    contiguous = min(seqs) - 1 if seqs else 0
    while contiguous + 1 in seqs:
        contiguous += 1
    await ws.send(orjson.dumps({"type": "resume", "after": contiguous}).decode())
    replayed = 0
    while (frame := orjson.loads(await asyncio.wait_for(ws.recv(), 30))).get("type") != "resume.done":
        take(frame)
        replayed += 1
    caught_up = time.perf_counter() - began
    await ws.close()
    return {
        "slow_queued": queued,
        "slow_replayed": replayed,
        "slow_lost": sum(1 for k in range(total) if f"{tag}{k}" not in seen),
        "slow_dup": sum(n - 1 for n in seen.values() if n > 1),
        "slow_catch_up_s": caught_up,
    }


async def run_all(args, envs: dict[str, dict], data: dict, tmp: Path) -> dict:
    """Both layers' workers up at once; every phase runs on one, then the other, in short turns."""
    workers = {}
    try:
        for layer, env in envs.items():
            # Each layer's worker has users of its own: a user's seqs count that layer's events only.
            workers[layer] = Worker(layer, *start_worker(env, tmp / f"{layer}.log"), {**data[layer], **data})
        out = {layer: {} for layer in workers}
        loads = {layer: Load(worker, args) for layer, worker in workers.items()}
        for layer, load in loads.items():
            print(f"  [{layer}] opening {args.sockets} sockets", flush=True)
            await load.open()
        turns = max(1, round(args.duration / args.turn))
        print(f"  load: {args.rate:g} msgs/s, {turns} turns of {args.duration / turns:g} s per layer", flush=True)
        for _ in range(turns):
            for load in loads.values():
                await load.slice(args.duration / turns)
        for layer, load in loads.items():
            out[layer]["load"] = await load.finish()
        for slow in (False, True):
            for layer, worker in workers.items():
                what = "one member never reading" if slow else "all reading"
                print(f"  [{layer}] backpressure: {args.flood} group messages, {what}", flush=True)
                out[layer]["flood_slow" if slow else "flood_base"] = await flood(worker, args, slow=slow)
        return out
    finally:
        for worker in workers.values():
            stop(worker.proc)


# Report ----------------------------------------------------------------------------------


def table(results: dict, args) -> str:
    layers = list(results)
    head = "| | " + " | ".join(f"`{layer}` ({LAYERS[layer]})" for layer in layers) + " |"
    rows = [head, "|---|" + "---|" * len(layers)]

    def row(label, fmt):
        rows.append(f"| {label} | " + " | ".join(fmt(results[layer]) for layer in layers) + " |")

    row("sockets open (s to open them)", lambda r: f"{r['load']['sockets']} ({r['load']['open_s']:.1f} s)")
    row("worker RSS per open socket", lambda r: f"{r['load']['kib_per_socket']:.1f} KiB")
    row(
        "worker RSS: idle → sockets open → peak under load",
        lambda r: (
            f"{r['load']['rss_before_mib']:.0f} → {r['load']['rss_open_mib']:.0f} → {r['load']['rss_peak_mib']:.0f} MiB"
        ),
    )
    row(f"{args.rate:g} msgs/s for {args.duration:g} s: sent", lambda r: str(r["load"]["sent"]))
    row(
        "latency p50 / p99 / max",
        lambda r: f"{r['load']['p50']:.0f} / {r['load']['p99']:.0f} / {r['load']['max']:.0f} ms",
    )
    row("worker CPU under load", lambda r: f"{r['load']['cpu_pct']:.0f} %")
    row("handshakes that failed while opening (retried)", lambda r: str(r["load"]["failed_handshakes"]))
    row("errors under load (sockets closed, error frames)", lambda r: str(r["load"]["errors"]))
    row(
        "not delivered / duplicated (seq gaps, repeats)",
        lambda r: (
            f"{r['load']['lost']} / {r['load']['dup']} of {r['load']['expected']} "
            f"({r['load']['seq_gaps']}, {r['load']['seq_repeats']})"
        ),
    )
    row(
        f"backpressure, {args.flood} msgs to {args.group + 1} members: readers' p50 / p95, all reading",
        lambda r: f"{r['flood_base']['p50']:.0f} / {r['flood_base']['p95']:.0f} ms",
    )
    row(
        "… with one member never reading",
        lambda r: f"{r['flood_slow']['p50']:.0f} / {r['flood_slow']['p95']:.0f} ms",
    )
    row(
        "worker RSS growth during the flood: all reading / one never reading",
        lambda r: (
            f"{r['flood_base']['rss_growth_kib'] / 1024:.1f} / {r['flood_slow']['rss_growth_kib'] / 1024:.1f} MiB"
        ),
    )
    row(
        "readers: not delivered / duplicated (both floods)",
        lambda r: (
            f"{r['flood_base']['lost'] + r['flood_slow']['lost']} / {r['flood_base']['dup'] + r['flood_slow']['dup']}"
        ),
    )
    row(
        "slow member: frames read when it woke, replayed by resume, missing / dup, s to catch up",
        lambda r: (
            f"{r['flood_slow']['slow_queued']}, {r['flood_slow']['slow_replayed']}, "
            f"{r['flood_slow']['slow_lost']} / {r['flood_slow']['slow_dup']}, "
            f"{r['flood_slow']['slow_catch_up_s']:.2f} s"
        ),
    )
    return "\n".join(rows)


def write_results(text: str, args) -> None:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    title = f"{SECTION} ({today})" + (" (quick)" if args.quick else "")
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    write_section(
        title,
        f"make bench-scale{' ARGS=--quick' if args.quick else ''}",
        text,
        run=f"; {database}, a private redis-server, one daphne worker -v0 per layer, both up, phases in turns",
        on_machine=f"; load average {os.getloadavg()[0]:.1f} at the end "
        "(both workers and the load client share the machine: compare the columns, not other days)",
    )


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a ~1-minute smoke run")
    ap.add_argument("--sockets", type=int, default=None, help="sockets opened on the worker (even)")
    ap.add_argument("--rate", type=float, default=100.0, help="msgs/s among the sockets")
    ap.add_argument("--duration", type=float, default=None, help="seconds of load per layer")
    ap.add_argument("--group", type=int, default=20, help="readers in the backpressure group (plus the slow one)")
    ap.add_argument("--flood", type=int, default=500, help="group messages in each backpressure run")
    ap.add_argument("--flood-rate", type=float, default=50.0, help="group msgs/s offered")
    ap.add_argument("--layers", nargs="+", default=list(LAYERS), choices=list(LAYERS))
    ap.add_argument("--turn", type=float, default=10.0, help="seconds of load per layer before the other's turn")
    ap.add_argument(
        "--drain",
        type=float,
        default=30.0,
        help="stop waiting for deliveries after this many seconds without one (counted as lost after)",
    )
    ap.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL URL (users are added with a fresh prefix); default: a temp SQLite file",
    )
    ap.add_argument(
        "--db-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the temp SQLite file goes (default /dev/shm: no fsync stalls from other disk users)",
    )
    ap.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = ap.parse_args()
    if args.sockets is None:
        args.sockets = 200 if args.quick else 1000
    if args.duration is None:
        args.duration = 10 if args.quick else 60
    if args.quick:
        args.flood = min(args.flood, 100)
    return args


def main() -> int:
    args = parse_args()
    raise_fd_limit(len(args.layers) * args.sockets + 200)  # before the servers start: they inherit it
    if not shutil.which("redis-server"):
        print("redis-server is needed (apt-get install redis-server)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="tandem-scale-", dir=args.db_dir))
    if not args.database_url:
        args.database_url = f"sqlite:///{tmp / 'scale.sqlite3'}"
    redis, redis_url = start_redis(tmp)
    t0 = time.perf_counter()
    try:
        envs = {layer: worker_env(args, redis_url, layer) for layer in args.layers}
        print(f"seeding {args.sockets} users in pairs and a group of {args.group + 1}", flush=True)
        data = seed(envs[args.layers[0]], args)
        try:
            results = asyncio.run(run_all(args, envs, data, tmp))
        except BaseException:
            print_log_tails(tmp)
            raise
    finally:
        stop(redis)
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(results, args)
    print()
    print(text)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    if not args.no_write:
        write_results(text, args)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
