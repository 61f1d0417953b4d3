"""Chat benchmark: Tandem's /ws/ against the Channels tutorial peer, same client, same run.

Starts both servers (daphne -v0, 127.0.0.1 only), drives them with one asyncio +
websockets client and prints one table:

1. 1:1 latency (intended send time -> receipt at the other member), open loop, at offered
   rates from 2 to 500 msgs/s, spread over 1 pair at 2 msgs/s, 5 at 20 and 20 from 200 up
   (peer: as many rooms of one sender and one receiver), at least MIN_SAMPLES messages each.
2. Saturated throughput: every sender keeps a window of messages in flight; msgs/s
   delivered to the receivers. Ours persists every message, the peer nothing.
3. Fan-out to a 100-member group (peer: a 100-socket room): intended send time -> the
   last of the 99 other members.
4. 1,000 idle sockets: RSS growth of the daphne process and its CPU while they idle.
5. Lost and duplicated deliveries in every scenario, by client_id (and, for ours, by the
   per-user `seq`, which must grow by exactly one per event on every socket).

Every socket drains continuously, every client socket has TCP_NODELAY, and latency is
timed with time.perf_counter from the intended send time (open loop). Results are
appended to bench/RESULTS.md (the section of the same day is replaced).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import harness
from harness import (
    HOST,
    RESULTS,
    ROOT,
    Client,
    close_all,
    cpu_seconds,
    free_port,
    migrate_and_seed,
    open_all,
    pct,
    print_log_tails,
    raise_fd_limit,
    rss_kib,
    start_daphne,
    start_ours,
    stop,
    write_section,
)

# The Channels tutorial's room chat, as a Django developer would start (bench/peer/README.md).
PEER_DIR = ROOT / "bench" / "peer"

N_PAIRS = 20
# Messages per offered rate at least (a p99 of fewer is a maximum): 2 msgs/s runs for 30 s.
MIN_SAMPLES = {"quick": 20, "full": 60}
GROUP_SIZE = 100
IDLE_USERS = 10  # ours: idle sockets are spread over this many users (5 direct pairs)

# Targets (issue 21): p50 and p99 within 1.5x the peer's at every offered rate, saturated
# throughput at least the peer's.
TARGET_RATIO = 1.0
TARGET_LATENCY_FACTOR = 1.5
TARGET_KIB_PER_SOCKET = 100.0
TARGET_IDLE_CPU = 5.0


# Servers ---------------------------------------------------------------------------------


def pairs_for(rate: float) -> int:
    """Pairs the offered rate is spread over: 1 at 2 msgs/s, 5 at 20, N_PAIRS from 80 up."""
    return max(1, min(N_PAIRS, round(rate / 4)))


def start_peer(port: int, log: Path, redis_url: str | None = None) -> subprocess.Popen:
    # With --services the peer's layer is Redis pub/sub too (bench/peer/settings.py), as ours:
    # the comparison is then of the server's own work, each over the same layer.
    env = {**os.environ}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return start_daphne("asgi:application", port, log, cwd=PEER_DIR, env=env)


SETUP = r"""
from accounts.models import User
from chat.services import conversation_create
from realtime.models import UserStream

out = {"pairs": [], "idle": []}
for i in range(%(pairs)d):
    a, b = make_user(f"pa{i}"), make_user(f"pb{i}")
    out["pairs"].append({"a": a.pk, "b": b.pk, "conv": befriend(a, b).pk})
members = [make_user(f"g{i}") for i in range(%(group)d)]
for other in members[1:]:
    befriend(members[0], other)
group, _ = conversation_create(creator=members[0], usernames=[m.username for m in members[1:]], title="bench")
out["group"] = {"conv": group.pk, "members": [m.pk for m in members]}
for i in range(0, %(idle)d, 2):
    a, b = make_user(f"ia{i}"), make_user(f"ib{i}")
    out["idle"].append({"a": a.pk, "b": b.pk, "conv": befriend(a, b).pk})
out["tokens"] = {u.pk: token_for(user=u).key for u in User.objects.all()}
out["seq"] = dict(UserStream.objects.values_list("user_id", "last_seq"))
report(out)
"""


def ours_env(db: Path, extra: list[str]) -> dict:
    return harness.ours_env(
        db,
        extra,
        CHAT_MESSAGES_PER_SECOND="100000",
        # The idle scenario holds 100 sockets per user (1,000 over 10 users); the default cap is 20.
        MAX_SOCKETS_PER_USER="100000",
    )


def setup_ours(env: dict) -> dict:
    if env["DATABASE_URL"].startswith("postgres"):
        # A database of the run's own: what an earlier run left is emptied first.
        python = str(Path(sys.executable))
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([python, "manage.py", "flush", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    if env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    data = migrate_and_seed(env, SETUP % {"pairs": N_PAIRS, "group": GROUP_SIZE, "idle": IDLE_USERS})
    data["seq"] = {int(k): v for k, v in data["seq"].items()}
    return data


# Client ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Deliveries expected and seen, per scenario."""

    expected: dict = field(default_factory=dict)  # (socket id, client_id) -> 1
    seen: dict = field(default_factory=dict)  # (socket id, client_id) -> count
    seq_gaps: int = 0
    seq_dups: int = 0

    def expect(self, sock_id: int, cid: str) -> None:
        self.expected[(sock_id, cid)] = 1

    def saw(self, sock_id: int, cid: str) -> None:
        key = (sock_id, cid)
        self.seen[key] = self.seen.get(key, 0) + 1

    def missing(self) -> int:
        return sum(1 for key in self.expected if key not in self.seen)

    def lost(self) -> int:
        return self.missing()

    def dups(self) -> int:
        return sum(n - 1 for n in self.seen.values() if n > 1) + self.seq_dups


class Router:
    """Turns received frames into (socket, client_id, receipt time) for either protocol."""

    def __init__(self, kind: str):
        self.kind = kind
        self.tally = Tally()
        self.on_delivery = None  # (client, cid, now) -> None

    def reset(self) -> Tally:
        old, self.tally = self.tally, Tally()
        return old

    def __call__(self, client: Client, frame: dict, now: float) -> None:
        if self.kind == "peer":
            cid = frame.get("message")
        else:
            if frame.get("type") != "message.new":
                if frame.get("type") == "error":
                    print("  error frame:", frame, file=sys.stderr)
                return
            seq = frame["seq"]
            if client.last_seq is not None:
                if seq <= client.last_seq:
                    self.tally.seq_dups += 1
                elif seq > client.last_seq + 1:
                    self.tally.seq_gaps += seq - client.last_seq - 1
            client.last_seq = max(seq, client.last_seq or 0)
            cid = frame["message"]["client_id"]
        self.tally.saw(client.id, cid)
        if self.on_delivery:
            self.on_delivery(client, cid, now)


def frame_for(kind: str, conv, cid: str) -> dict:
    if kind == "peer":
        return {"message": cid}
    return {"type": "message.send", "conversation": conv, "body": f"bench {cid}", "client_id": cid}


async def wait_drained(tally: Tally, timeout: float) -> None:
    """Waits until every expected delivery arrived, or nothing arrived for `timeout` s."""
    last, stamp = -1, time.monotonic()
    while tally.missing():
        seen = len(tally.seen)
        if seen != last:
            last, stamp = seen, time.monotonic()
        elif time.monotonic() - stamp > timeout:
            return
        await asyncio.sleep(0.05)


@dataclass
class Room:
    conv: object  # conversation id (ours) or room name (peer)
    sender: Client
    members: list[Client]  # every socket that must get each message, the sender's included
    watch: list[Client]  # sockets whose receipt time is measured


class Bench:
    def __init__(self, kind: str, port: int, pid: int, args, data: dict | None = None):
        self.kind, self.port, self.pid, self.args, self.data = kind, port, pid, args, data
        self.router = Router(kind)
        self.counter = itertools.count()
        self.tag = "o" if kind == "ours" else "p"

    def url(self, user: int | None = None, room: str | None = None) -> str:
        if self.kind == "peer":
            return f"ws://{HOST}:{self.port}/ws/chat/{room}/"
        return f"ws://{HOST}:{self.port}/ws/?token={self.data['tokens'][user]}"

    def client(self, user: int | None = None, room: str | None = None) -> Client:
        seq = self.data["seq"].get(user) if self.kind == "ours" else None
        return Client(self.url(user, room), self.router, last_seq=seq)

    def cid(self) -> str:
        return f"{self.tag}{next(self.counter)}"

    async def send(self, room: Room, cid: str) -> None:
        for member in room.members:
            self.router.tally.expect(member.id, cid)
        await room.sender.send(frame_for(self.kind, room.conv, cid))

    # Scenarios -------------------------------------------------------------------------

    async def pairs(self) -> list[Room]:
        rooms = []
        for i in range(N_PAIRS):
            if self.kind == "peer":
                a, b = self.client(room=f"pair{i}"), self.client(room=f"pair{i}")
                conv = f"pair{i}"
            else:
                pair = self.data["pairs"][i]
                a, b, conv = self.client(pair["a"]), self.client(pair["b"]), pair["conv"]
            rooms.append(Room(conv, a, [a, b], [b]))
        await open_all([c for r in rooms for c in r.members])
        return rooms

    async def open_loop(self, rooms: list[Room], rate: float, duration: float) -> dict:
        """Sends at `rate` msgs/s in all (spread evenly over rooms), times each receipt."""
        rooms = rooms[: pairs_for(rate)]
        sent_at: dict[str, float] = {}
        latencies: list[float] = []
        watched = {c.id for r in rooms for c in r.watch}

        def on_delivery(client, cid, now):
            if client.id in watched and cid in sent_at:
                latencies.append(now - sent_at[cid])

        self.router.reset()
        self.router.on_delivery = on_delivery
        interval = len(rooms) / rate
        count = int(duration * rate / len(rooms))
        start = time.perf_counter() + 0.2

        tally = self.router.tally
        overloaded: list[float] = []
        # Deliveries owed (each message is owed to both sockets of its pair) worth max_lag s.
        max_owed = max(200, int(2 * rate * self.args.max_lag))

        async def sender(index: int, room: Room):
            for k in range(count):
                intended = start + index * interval / len(rooms) + k * interval
                delay = intended - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if overloaded or len(tally.expected) - len(tally.seen) > max_owed:
                    # The server fell this far behind: stop offering, so the run ends.
                    if not overloaded:
                        overloaded.append(time.perf_counter() - start)
                    return
                cid = self.cid()
                sent_at[cid] = intended
                await self.send(room, cid)

        await asyncio.gather(*(sender(i, r) for i, r in enumerate(rooms)))
        elapsed = overloaded[0] if overloaded else time.perf_counter() - start
        await wait_drained(self.router.tally, self.args.drain)
        tally = self.router.reset()
        self.router.on_delivery = None
        return {
            "offered": rate,
            "pairs": len(rooms),
            "sent": len(sent_at),
            "send_rate": len(sent_at) / elapsed,
            "p50": pct(latencies, 50) * 1000,
            "p99": pct(latencies, 99) * 1000,
            "max": max(latencies, default=float("nan")) * 1000,
            "overloaded": overloaded[0] if overloaded else None,
            "lost": tally.lost(),
            "dup": tally.dups(),
            "seq_gaps": tally.seq_gaps,
            "expected": len(tally.expected),
        }

    async def saturate(self, rooms: list[Room], duration: float, window: int) -> dict:
        """Each sender keeps `window` messages in flight; counts receipts at the receivers."""
        gates = {r.sender.id: asyncio.Semaphore(window) for r in rooms}
        gate_of = {c.id: gates[r.sender.id] for r in rooms for c in r.watch}
        stamps: list[float] = []

        def on_delivery(client, cid, now):
            gate = gate_of.get(client.id)
            if gate is not None:
                stamps.append(now)
                gate.release()

        self.router.reset()
        self.router.on_delivery = on_delivery
        stop_at = time.perf_counter() + duration

        async def sender(room: Room):
            gate = gates[room.sender.id]
            while True:
                remaining = stop_at - time.perf_counter()
                if remaining <= 0:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gate.acquire(), remaining)
                    await self.send(room, self.cid())

        begin, client_cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_seconds(self.pid)
        await asyncio.gather(*(sender(r) for r in rooms))
        took = time.perf_counter() - begin
        client_cpu = 100 * (time.process_time() - client_cpu) / took
        server_cpu = 100 * (cpu_seconds(self.pid) - server_cpu) / took
        await wait_drained(self.router.tally, self.args.drain)
        tally = self.router.reset()
        self.router.on_delivery = None
        warm = begin + min(1.0, duration / 4)
        counted = [t for t in stamps if warm <= t <= stop_at]
        return {
            "rate": len(counted) / (stop_at - warm),
            "client_cpu": client_cpu,
            "server_cpu": server_cpu,
            "delivered": len(stamps),
            "lost": tally.lost(),
            "dup": tally.dups(),
            "seq_gaps": tally.seq_gaps,
            "expected": len(tally.expected),
        }

    async def fanout(self, count: int, rate: float) -> dict:
        if self.kind == "peer":
            members = [self.client(room="fanout") for _ in range(GROUP_SIZE)]
            conv = "fanout"
        else:
            members = [self.client(uid) for uid in self.data["group"]["members"]]
            conv = self.data["group"]["conv"]
        await open_all(members)
        room = Room(conv, members[0], members, members[1:])
        sent_at: dict[str, float] = {}
        got: dict[str, list[float]] = {}
        watched = {c.id for c in room.watch}

        def on_delivery(client, cid, now):
            if client.id in watched:
                got.setdefault(cid, []).append(now)

        self.router.reset()
        self.router.on_delivery = on_delivery
        start = time.perf_counter() + 0.2
        for k in range(count):
            intended = start + k / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = self.cid()
            sent_at[cid] = intended
            await self.send(room, cid)
        await wait_drained(self.router.tally, self.args.drain)
        tally = self.router.reset()
        self.router.on_delivery = None
        await close_all(members)
        last = [max(got[cid]) - sent_at[cid] for cid in sent_at if len(got.get(cid, ())) == len(room.watch)]
        return {
            "p50": pct(last, 50) * 1000,
            "p99": pct(last, 99) * 1000,
            "complete": len(last),
            "sent": count,
            "lost": tally.lost(),
            "dup": tally.dups(),
            "seq_gaps": tally.seq_gaps,
            "expected": len(tally.expected),
        }

    async def idle(self, pid: int, sockets: int, seconds: float) -> dict:
        """Opens `sockets` idle sockets: RSS growth, CPU while idle, then one message per room."""
        per_room = sockets // IDLE_USERS
        rooms: list[Room] = []
        if self.kind == "peer":
            for r in range(IDLE_USERS // 2):
                members = [self.client(room=f"idle{r}") for _ in range(2 * per_room)]
                rooms.append(Room(f"idle{r}", members[0], members, []))
        else:
            for pair in self.data["idle"]:
                members = [self.client(pair["a"]) for _ in range(per_room)]
                members += [self.client(pair["b"]) for _ in range(per_room)]
                rooms.append(Room(pair["conv"], members[0], members, []))
        clients = [c for r in rooms for c in r.members]
        await asyncio.sleep(1.0)
        before = rss_kib(pid)
        t_open = time.perf_counter()
        await open_all(clients)
        open_s = time.perf_counter() - t_open
        await asyncio.sleep(2.0)  # let the server settle after the handshakes
        after = rss_kib(pid)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, t1 = cpu_seconds(pid), time.perf_counter()
        alive = sum(1 for c in clients if c.ws.state.name == "OPEN")
        self.router.reset()
        for room in rooms:
            await self.send(room, self.cid())
        await wait_drained(self.router.tally, self.args.drain)
        tally = self.router.reset()
        await close_all(clients)
        return {
            "sockets": len(clients),
            "alive": alive,
            "open_s": open_s,
            "rss_before": before,
            "rss_after": after,
            "kib_per_socket": (after - before) / len(clients),
            "cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
            "lost": tally.lost(),
            "dup": tally.dups(),
            "seq_gaps": tally.seq_gaps,
            "expected": len(tally.expected),
        }


# Report ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def sat_cpu(side: dict) -> str:
    return f"CPU: server {side['sat']['server_cpu']:.0f} %, client {side['sat']['client_cpu']:.0f} %"


def table(res: dict, args) -> str:
    o, p = res["ours"], res["peer"]
    rows = [("scenario", "ours", "peer", "target", "verdict"), ("---",) * 5]

    def lat(r):
        text = f"{r['p50']:.1f} / {r['p99']:.1f} ms (sent {r['send_rate']:.0f}/s)"
        if r["overloaded"] is not None:
            text += f", OVERLOADED: offer stopped at {r['overloaded']:.1f} s, > {args.max_lag:g} s of it owed"
        return text

    for rate in args.rates:
        key = f"lat{rate:g}"
        r50, r99 = o[key]["p50"] / p[key]["p50"], o[key]["p99"] / p[key]["p99"]
        ok = max(r50, r99) <= TARGET_LATENCY_FACTOR and o[key]["overloaded"] is None
        rows.append(
            (
                f"1:1 latency p50 / p99 at {rate:g} msgs/s offered ({o[key]['pairs']} pairs)",
                lat(o[key]),
                lat(p[key]),
                f"both ≤ {TARGET_LATENCY_FACTOR:g}× peer",
                f"{verdict(ok)} ({r50:.2f}× / {r99:.2f}×)",
            )
        )
    ratio = o["sat"]["rate"] / p["sat"]["rate"]
    rows.append(
        (
            "saturated throughput, msgs/s delivered",
            f"{o['sat']['rate']:.0f} (persisted; {sat_cpu(o)})",
            f"{p['sat']['rate']:.0f} (no DB; {sat_cpu(p)})",
            f"≥ {TARGET_RATIO:g}× peer",
            f"{verdict(ratio >= TARGET_RATIO)} ({ratio:.2f}×)",
        )
    )
    rows.append(
        (
            f"fan-out to {GROUP_SIZE}: send → last recipient p50 / p99",
            f"{o['fanout']['p50']:.1f} / {o['fanout']['p99']:.1f} ms",
            f"{p['fanout']['p50']:.1f} / {p['fanout']['p99']:.1f} ms",
            "—",
            f"({o['fanout']['p99'] / p['fanout']['p99']:.1f}× peer)",
        )
    )
    oi, pi = o["idle"], p["idle"]
    rows.append(
        (
            f"memory per idle socket ({oi['sockets']} open)",
            f"{oi['kib_per_socket']:.1f} KiB (RSS {oi['rss_before'] // 1024}→{oi['rss_after'] // 1024} MiB)",
            f"{pi['kib_per_socket']:.1f} KiB (RSS {pi['rss_before'] // 1024}→{pi['rss_after'] // 1024} MiB)",
            "≤ 100 KiB",
            verdict(oi["kib_per_socket"] <= TARGET_KIB_PER_SOCKET),
        )
    )
    rows.append(
        (
            f"worker CPU, {oi['sockets']} sockets idle {args.idle_seconds:g} s",
            f"{oi['cpu_pct']:.1f} % of a core",
            f"{pi['cpu_pct']:.1f} % of a core",
            "< 5 %",
            verdict(oi["cpu_pct"] < TARGET_IDLE_CPU),
        )
    )
    names = [f"lat{r:g}" for r in args.rates] + ["sat", "fanout", "idle"]

    def losses(side):
        lost = sum(side[n]["lost"] for n in names)
        dup = sum(side[n]["dup"] for n in names)
        exp = sum(side[n]["expected"] for n in names)
        gaps = sum(side[n]["seq_gaps"] for n in names)
        return lost, dup, exp, gaps

    ol, od, oe, og = losses(o)
    pl, pd, pe, _ = losses(p)
    rows.append(
        (
            "lost / duplicated deliveries, all scenarios",
            f"{ol} / {od} of {oe} (seq gaps {og})",
            f"{pl} / {pd} of {pe}",
            "0 / 0",
            verdict(ol == 0 and od == 0 and og == 0),
        )
    )
    per = ", ".join(f"{n} {o[n]['lost']}/{o[n]['dup']}" for n in names)
    per_p = ", ".join(f"{n} {p[n]['lost']}/{p[n]['dup']}" for n in names)
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines[1] = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    lines.append("")
    lines.append(f"Lost/dup per scenario — ours: {per}; peer: {per_p}.")
    return "\n".join(lines)


def write_results(text: str, args, extra_env: list[str]) -> None:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    heading = today + (" (quick)" if args.quick else "") + (", PostgreSQL + Redis" if args.services else "")
    flags = " ".join(f for f, on in (("--quick", args.quick), ("--services", args.services)) if on)
    cmd = "make bench-chat" + (f" ARGS='{flags}'" if flags else "")
    if extra_env:
        cmd += "  (ours with " + " ".join(extra_env) + ")"
    write_section(heading, cmd, text)


# Main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="~1-minute smoke run")
    ap.add_argument("--rates", type=float, nargs="+", default=[2, 20, 200, 500], help="offered msgs/s for 1:1 latency")
    ap.add_argument(
        "--services",
        action="store_true",
        help="ours on PostgreSQL ($BENCH_DATABASE_URL, emptied first) and Redis ($BENCH_REDIS_URL, flushed); "
        "the peer's layer on the same Redis",
    )
    ap.add_argument("--duration", type=float, default=None, help="seconds per open-loop rate")
    ap.add_argument("--sat-duration", type=float, default=None, help="seconds of saturated load")
    ap.add_argument("--window", type=int, default=10, help="messages in flight per sender when saturated")
    ap.add_argument("--fanout-count", type=int, default=None, help="messages sent to the 100-member group")
    ap.add_argument("--fanout-rate", type=float, default=2.0, help="msgs/s offered to the group")
    ap.add_argument("--idle-sockets", type=int, default=None, help="idle sockets opened")
    ap.add_argument("--idle-seconds", type=float, default=None, help="seconds the idle sockets idle")
    ap.add_argument(
        "--max-lag", type=float, default=1.0, help="open loop: stop offering once this many seconds of it are owed"
    )
    ap.add_argument("--db-dir", default=None, help="where ours' temp SQLite file goes (default: system temp)")
    ap.add_argument("--drain", type=float, default=5.0, help="give up waiting after this many quiet seconds")
    ap.add_argument("--only", choices=["ours", "peer"], help="run one server only (no table)")
    ap.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE", help="extra env for ours")
    ap.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = ap.parse_args()
    quick = args.quick
    defaults = {
        "duration": (4, 12),
        "sat_duration": (4, 10),
        "fanout_count": (8, 24),
        "idle_sockets": (1000, 1000),
        "idle_seconds": (3, 10),
    }
    for name, (q, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, q if quick else full)
    return args


async def run_all(args, servers: dict) -> dict:
    """Every scenario on ours, then at once on the peer: both see the same machine load."""
    benches = [Bench(kind, port, pid, args, data) for kind, (port, pid, data) in servers.items()]
    out: dict = {b.kind: {} for b in benches}
    rooms = {b.kind: await b.pairs() for b in benches}
    for b in benches:
        await b.open_loop(rooms[b.kind], min(args.rates), 1.0)  # warm-up, not reported
    least = MIN_SAMPLES["quick" if args.quick else "full"]
    for rate in args.rates:
        duration = max(args.duration, least / rate)
        for b in benches:
            print(f"  [{b.kind}] 1:1 open loop, {rate:g} msgs/s for {duration:g} s", flush=True)
            out[b.kind][f"lat{rate:g}"] = await b.open_loop(rooms[b.kind], rate, duration)
    for b in benches:
        print(f"  [{b.kind}] saturated, {args.window} in flight per sender, {args.sat_duration:g} s", flush=True)
        out[b.kind]["sat"] = await b.saturate(rooms[b.kind], args.sat_duration, args.window)
        await close_all([c for r in rooms[b.kind] for c in r.members])
    for b in benches:
        print(f"  [{b.kind}] fan-out to {GROUP_SIZE}: {args.fanout_count} msgs at {args.fanout_rate:g}/s", flush=True)
        out[b.kind]["fanout"] = await b.fanout(args.fanout_count, args.fanout_rate)
    for b in benches:
        print(f"  [{b.kind}] {args.idle_sockets} idle sockets, {args.idle_seconds:g} s", flush=True)
        out[b.kind]["idle"] = await b.idle(b.pid, args.idle_sockets, args.idle_seconds)
    return out


def main() -> int:
    args = parse_args()
    raise_fd_limit(args.idle_sockets)  # before the servers start: they inherit it too
    if not PEER_DIR.is_dir():
        print(f"peer not found at {PEER_DIR}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-bench-", dir=args.db_dir))
    procs: list[subprocess.Popen] = []
    servers: dict = {}
    try:
        redis_url = None
        if args.services:
            redis_url = os.environ["BENCH_REDIS_URL"]
            args.ours_env = [
                f"DATABASE_URL={os.environ['BENCH_DATABASE_URL']}",
                f"REDIS_URL={redis_url}",
                *args.ours_env,
            ]
        if args.only != "peer":
            env = ours_env(tmp / "bench.sqlite3", args.ours_env)
            print(f"ours: migrating and seeding a fresh {tmp / 'bench.sqlite3'}", flush=True)
            data = setup_ours(env)
            print(
                "ours: DEBUG=false (like the peer), CHAT_MESSAGES_PER_SECOND=100000 and MAX_SOCKETS_PER_USER="
                "100000 (the message rate, 20/s by default, and the 20 sockets a user may hold are raised for "
                "the benchmark)" + (f"; extra env {' '.join(args.ours_env)}" if args.ours_env else ""),
                flush=True,
            )
            port = free_port()
            procs.append(start_ours(port, env, tmp / "ours.log"))
            servers["ours"] = (port, procs[-1].pid, data)
            print(f"ours: Tandem, daphne -v0 on {HOST}:{port}, pid {procs[-1].pid}", flush=True)
        if args.only != "ours":
            port = free_port()
            procs.append(start_peer(port, tmp / "peer.log", redis_url))
            servers["peer"] = (port, procs[-1].pid, None)
            print(f"peer: channels_tutorial, daphne -v0 on {HOST}:{port}, pid {procs[-1].pid}", flush=True)
        results = asyncio.run(run_all(args, servers))
    except BaseException:
        print_log_tails(tmp)
        raise
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.only:
        print(json.dumps(results, indent=1, default=str))
        return 0
    text = table(results, args)
    print()
    print(text)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")
    if not args.no_write:
        write_results(text, args, args.ours_env)
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
