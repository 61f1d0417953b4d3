"""The resume flood (issue 14, item 4): clients that ask for their whole history again and again and never read.

Starts one daphne (-v0, 127.0.0.1, a temp SQLite file, the in-memory layer), seeds a user with
`--events` stored events (messages of `--body` characters: ~570-byte frames by default, 0.68 MB
for 1,200 of them, as the probe measured), then:

1. before: the worker's VmRSS after one ordinary resume by a client that reads (so one-time
   imports and caches are in the baseline, not in the attack's figure);
2. during: `--clients` sockets of that user each send `--resumes` `{"type": "resume", "after": 0}`
   frames and read nothing (4 KiB receive buffer, the client's own queue stopped after one frame);
   VmRSS is sampled every 0.25 s for `--hold` seconds, and the peak kept;
3. after: the attackers close; VmRSS `--settle` seconds later.

The target: "after" within 10% of "before" (and a flat "during"). Prints one table; nothing is
written to bench/RESULTS.md (the lead copies the figures there).

    .venv/bin/python bench/resume_flood.py            # 1 client x 300 resumes, 1,200 events
    .venv/bin/python bench/resume_flood.py --clients 5 --resumes 300
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

from chat_bench import ours_env
from harness import HOST, free_port, migrate_and_seed, rss_kib, start_ours, stop
from websockets.asyncio.client import connect

SEED = r"""
from chat.services import OutgoingMessage, message_send_many

victim, friend = make_user("victim"), make_user("friend")
conversation = befriend(friend, victim)
body = "x" * %(body)d
for start in range(0, %(events)d, 200):
    message_send_many(sends=[
        OutgoingMessage(sender=friend, conversation_id=conversation.pk, body=f"{n} {body}", client_id=f"s{n}")
        for n in range(start, min(%(events)d, start + 200))
    ])
report({"tokens": {victim.pk: token_for(user=victim).key}, "victim": victim.pk})
"""


async def replay_size(url: str) -> tuple[int, int]:
    """One ordinary resume by a client that reads: (frames, bytes) of the whole replay."""
    async with connect(url, compression=None, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "resume", "after": 0}))
        frames = size = 0
        while True:
            raw = await ws.recv()
            frames += 1
            size += len(raw)
            if json.loads(raw)["type"] == "resume.done":
                return frames - 1, size


async def stalled(url: str):
    """A socket whose client reads nothing: a 4 KiB receive buffer, and websockets' queue stops at one frame."""
    port = int(url.split(":")[2].split("/")[0])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
    return await connect(url, sock=sock, compression=None, max_queue=1, ping_interval=None)


async def attack(args, url: str, pid: int) -> dict:
    sizes = await replay_size(url)
    await asyncio.sleep(1)
    before = rss_kib(pid)
    attackers = [await stalled(url) for _ in range(args.clients)]
    frame = json.dumps({"type": "resume", "after": 0})
    started = time.monotonic()
    for ws in attackers:
        for _ in range(args.resumes):
            await ws.send(frame)
    peak, samples = before, []
    while time.monotonic() - started < args.hold:
        await asyncio.sleep(0.25)
        samples.append(rss_kib(pid))
        peak = max(peak, samples[-1])
    for ws in attackers:
        ws.transport.abort()  # gone without a closing handshake, as a client that never reads goes
    await asyncio.sleep(args.settle)
    after = rss_kib(pid)
    return {"replay_frames": sizes[0], "replay_bytes": sizes[1], "before": before, "peak": peak, "after": after}


def table(result: dict, args) -> str:
    mib = 1024
    before, peak, after = result["before"] / mib, result["peak"] / mib, result["after"] / mib
    within = abs(after - before) / before * 100
    return "\n".join(
        [
            f"resume flood: {args.clients} client(s) x {args.resumes} resumes, never reading; "
            f"{result['replay_frames']} events, {result['replay_bytes'] / 1e6:.2f} MB per full replay",
            "| worker VmRSS | MiB |",
            "|---|---|",
            f"| before | {before:.1f} |",
            f"| during (peak over {args.hold:g} s) | {peak:.1f} (+{peak - before:.1f}) |",
            f"| after the clients left (+{args.settle:g} s) | {after:.1f} ({after - before:+.1f}, {within:.1f}%) |",
            f"target: after within 10% of before: {'MET' if within <= 10 else 'NOT MET'}",
        ]
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1200)
    parser.add_argument("--body", type=int, default=350, help="characters per message body")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--resumes", type=int, default=300, help="resume frames per client")
    parser.add_argument("--hold", type=float, default=15.0, help="seconds the clients stay without reading")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after they left")
    parser.add_argument("--ours-env", action="append", default=[], metavar="KEY=VALUE")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(
        prefix="resume-flood-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None
    ) as tmp:
        env = ours_env(Path(tmp) / "db.sqlite3", args.ours_env)
        data = migrate_and_seed(env, SEED % {"events": args.events, "body": args.body})
        port = free_port()
        server = start_ours(port, env, Path(tmp) / "daphne.log")
        try:
            url = f"ws://{HOST}:{port}/ws/?token={data['tokens'][data['victim']]}"
            result = asyncio.run(attack(args, url, server.pid))
        finally:
            stop(server)
        with contextlib.suppress(OSError):
            sys.stderr.write((Path(tmp) / "daphne.log").read_text()[-2000:])
    print(table(result, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
