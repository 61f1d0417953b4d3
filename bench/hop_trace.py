"""The idle floor, hop by hop: where one message's time goes between the sender's frame and the push.

Starts Tandem (SQLite and the in-memory layer, or whatever `--ours-env` says) under
`hop_app` (Tandem's ASGI application with timestamps wrapped around each hop of the send
path, nothing else changed) and the Channels tutorial peer, opens one pair of sockets on
each, and sends one message a second. Client and server stamp time.perf_counter, which on
Linux is CLOCK_MONOTONIC and so comparable across the two processes. Prints the median
time of every hop over the messages sent, and the end-to-end p50 of both servers.

    .venv/bin/python bench/hop_trace.py [--count 30] [--rate 1] [--warm-up 3] [--no-peer] [--slowest N]
        [--ours-env KEY=VALUE ...]

At a slow rate (`--rate 0.015`: a quiet minute before each send) a run takes `(warm-up + count) / rate`
seconds per server; `--warm-up 1 --no-peer` keeps that to a few minutes.

With `--slowest N`, the N slowest messages are also printed hop by hop: a stall in one hop, or every
hop slower at once (the machine, not the code).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from harness import HOST, ROOT, Client, cpu_seconds, free_port, migrate_and_seed, ours_env, start_daphne, stop

SETUP = r"""
a, b = make_user("ha"), make_user("hb")
conv = befriend(a, b)
report({"a": a.pk, "b": b.pk, "conv": conv.pk, "tokens": {a.pk: token_for(user=a).key, b.pk: token_for(user=b).key}})
"""


def env_for(db: Path, trace: Path, extra: list[str]) -> dict:
    return ours_env(
        db,
        extra,
        CHAT_MESSAGES_PER_SECOND="100000",
        HOP_TRACE_FILE=str(trace),
        PYTHONPATH=f"{ROOT / 'bench'}:{ROOT}",
    )


async def drive(
    url_a: str, url_b: str, frame_for, count: int, rate: float, stamps: list, pid: int, cpu: list, warm_up: int
) -> list[float]:
    """Sends `count` messages from a to b at `rate`; records (client_id, hop, time) in `stamps`
    and the server's CPU seconds over the counted messages in `cpu`."""
    got: dict[str, float] = {}
    acked: dict[str, float] = {}

    def on_b(client, frame, now):
        cid = frame.get("message")
        cid = cid if isinstance(cid, str) else (cid or {}).get("client_id")
        if cid and cid not in got:
            got[cid] = now

    def on_a(client, frame, now):
        if frame.get("type") == "message.ack":
            acked[frame["client_id"]] = now

    a, b = Client(url_a, on_a), Client(url_b, on_b)
    await a.open()
    await b.open()
    latencies = []
    for k in range(-warm_up, count):  # the warm-up sends are not counted
        if k == 0:
            cpu.append(cpu_seconds(pid))
        cid = f"h{k}"
        await asyncio.sleep(1 / rate)
        sent = time.perf_counter()
        await a.send(frame_for(cid))
        while cid not in got or (frame_for(cid).get("type") and cid not in acked):
            await asyncio.sleep(0.001)
            if time.perf_counter() - sent > 5:
                break
        if k >= 0 and cid in got:
            latencies.append(got[cid] - sent)
            stamps.append((cid, "client.sent", sent))
            stamps.append((cid, "client.received (other member)", got[cid]))
            if cid in acked:
                stamps.append((cid, "client.acked (sender)", acked[cid]))
    cpu.append(cpu_seconds(pid))
    await a.close()
    await b.close()
    return latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--ours-env", action="append", default=[])
    ap.add_argument("--warm-up", type=int, default=3, help="sends before the counted ones")
    ap.add_argument("--no-peer", action="store_true", help="time Tandem only")
    ap.add_argument("--slowest", type=int, default=0, help="also print every hop of the N slowest messages")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tandem-hops-"))
    trace = tmp / "trace.txt"
    procs = []
    try:
        env = env_for(tmp / "h.sqlite3", trace, args.ours_env)
        data = migrate_and_seed(env, SETUP)
        port = free_port()
        procs.append(start_daphne("hop_app:application", port, tmp / "ours.log", env=env))
        peer_port = free_port()
        procs.append(start_daphne("asgi:application", peer_port, tmp / "peer.log", cwd=ROOT / "bench" / "peer"))
        a, b, conv = data["a"], data["b"], data["conv"]
        url = f"ws://{HOST}:{port}/ws/?token="
        client_stamps: list = []
        ours_cpu: list = []
        peer_cpu: list = []
        ours = asyncio.run(
            drive(
                url + data["tokens"][a],
                url + data["tokens"][b],
                lambda cid: {"type": "message.send", "conversation": conv, "body": "hello", "client_id": cid},
                args.count,
                args.rate,
                client_stamps,
                procs[0].pid,
                ours_cpu,
                args.warm_up,
            )
        )
        peer = []
        if not args.no_peer:
            peer_url = f"ws://{HOST}:{peer_port}/ws/chat/hop/"
            peer = asyncio.run(
                drive(
                    peer_url,
                    peer_url,
                    lambda cid: {"message": cid},
                    *(args.count, args.rate, [], procs[1].pid, peer_cpu, args.warm_up),
                )
            )
    finally:
        for proc in procs:
            stop(proc)
    stamps = list(client_stamps)
    for line in trace.read_text().splitlines():
        cid, hop, t = line.split("\t")
        stamps.append((cid, hop, float(t)))
    shutil.rmtree(tmp, ignore_errors=True)
    by_cid: dict[str, dict[str, float]] = {}
    for cid, hop, t in stamps:
        by_cid.setdefault(cid, {}).setdefault(hop, t)
    counted = [c for c, hops in by_cid.items() if "client.sent" in hops]
    order = sorted(by_cid[counted[0]], key=lambda h: by_cid[counted[0]][h])
    print(f"{len(counted)} messages at {args.rate:g}/s; median ms since client.sent, and of each hop:")
    prev = None
    for hop in order:
        since = [1000 * (by_cid[c][hop] - by_cid[c]["client.sent"]) for c in counted if hop in by_cid[c]]
        step = (
            [1000 * (by_cid[c][hop] - by_cid[c][prev]) for c in counted if hop in by_cid[c] and prev in by_cid[c]]
            if prev
            else [0.0]
        )
        print(f"  {hop:48s} {statistics.median(since):7.3f}  (+{statistics.median(step):6.3f})")
        prev = hop
    received = "client.received (other member)"
    slowest = sorted(
        (c for c in counted if received in by_cid[c]), key=lambda c: by_cid[c]["client.sent"] - by_cid[c][received]
    )
    for cid in slowest[: args.slowest]:
        hops = by_cid[cid]
        print(f"{cid}, {1000 * (hops[received] - hops['client.sent']):.1f} ms, each hop's step:")
        prev = None
        for hop in sorted(hops, key=hops.get):
            print(f"  {hop:48s} +{1000 * (hops[hop] - hops[prev]) if prev else 0.0:7.3f}")
            prev = hop
    print(
        f"end to end (sent -> other member received) p50: ours {1000 * statistics.median(ours):.2f} ms"
        + (f", peer {1000 * statistics.median(peer):.2f} ms" if peer else "")
        + f"; server CPU per message: ours {1000 * (ours_cpu[1] - ours_cpu[0]) / args.count:.2f} ms"
        + (f", peer {1000 * (peer_cpu[1] - peer_cpu[0]) / args.count:.2f} ms" if peer else "")
        + " (idle work between sends included)"
    )


if __name__ == "__main__":
    main()
