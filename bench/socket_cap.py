"""Issue 14, item 6: one user opens 300 sockets at once; then the ones accepted send typing for 5 s.

One daphne (-v0, 127.0.0.1, a temp SQLite file, default limits: MAX_SOCKETS_PER_USER=20,
CHAT_TYPING_PER_SECOND=5). Prints how many sockets were accepted and how many closed with which
code, and how many typing frames the other member of the chat received.

    .venv/bin/python bench/socket_cap.py
"""

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from chat_bench import ours_env
from harness import HOST, free_port, migrate_and_seed, start_ours, stop
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

SEED = r"""
a, b = make_user("a"), make_user("b")
conv = befriend(a, b)
tokens = {a.pk: token_for(user=a).key, b.pk: token_for(user=b).key}
report({"tokens": tokens, "a": a.pk, "b": b.pk, "conv": conv.pk})
"""


async def outcome(url):
    ws = await connect(url, max_queue=None)
    try:
        await ws.send(json.dumps({"type": "ping"}))
        while True:
            f = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if f["type"] == "pong":
                return ws, "accepted"
    except ConnectionClosed as c:
        return None, c.rcvd.code if c.rcvd else None


async def main(port, data):
    base = f"ws://{HOST}:{port}/ws/?token="
    t0 = time.monotonic()
    results = await asyncio.gather(*(outcome(base + data["tokens"][data["a"]]) for _ in range(300)))
    took = time.monotonic() - t0
    codes = {}
    for _, r in results:
        codes[r] = codes.get(r, 0) + 1
    print(f"300 sockets of one user in {took:.1f} s: {codes}")
    open_ = [ws for ws, r in results if ws]
    watcher = await connect(base + data["tokens"][data["b"]], max_queue=None)
    got = 0

    async def watch():
        nonlocal got
        async for raw in watcher:
            if json.loads(raw)["type"] == "typing":
                got += 1

    task = asyncio.create_task(watch())
    end = time.monotonic() + 5
    sent = 0
    while time.monotonic() < end:
        for ws in open_:
            await ws.send(json.dumps({"type": "typing", "conversation": data["conv"]}))
            sent += 1
        await asyncio.sleep(0.05)
    await asyncio.sleep(1)
    print(f"typing: {sent} frames from {len(open_)} sockets in 5 s; the other member got {got} (limit 5 a second)")
    task.cancel()


def run() -> int:
    with tempfile.TemporaryDirectory(prefix="socket-cap-") as tmp:
        env = ours_env(Path(tmp) / "db.sqlite3", [])
        env.pop("MAX_SOCKETS_PER_USER")  # the cap is what this measures: the default, not the chat bench's
        data = migrate_and_seed(env, SEED)
        port = free_port()
        server = start_ours(port, env, Path(tmp) / "daphne.log")
        try:
            asyncio.run(main(port, data))
        finally:
            stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(run())
