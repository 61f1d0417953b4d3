"""What one connect and one group_send cost an in-memory channel layer, by how many sockets it already holds.

In-process, no server: N channels each joined to a group of their own and waiting in `receive`
(as N open sockets' consumers wait), then 200 more connects (group_add + the first receive) and
200 group_sends, timed. Channels' own layer scans every channel and group on each receive and
group_send; realtime.layers' does not.

    .venv/bin/python bench/layer_probe.py
"""

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.layers import InMemoryChannelLayer

from realtime.layers import InMemoryChannelLayer as TandemInMemoryChannelLayer

SIZES = (0, 1000, 5000, 9000)
TRIES = 200


async def probe(layer_class, open_sockets: int) -> tuple[float, float]:
    layer = layer_class()
    waiting = []
    for n in range(open_sockets):
        channel = await layer.new_channel()
        await layer.group_add(f"user.{n}", channel)
        waiting.append(asyncio.ensure_future(layer.receive(channel)))
    await asyncio.sleep(0)
    started = time.perf_counter()
    for n in range(TRIES):
        channel = await layer.new_channel()
        await layer.group_add(f"user.new{n}", channel)
        waiting.append(asyncio.ensure_future(layer.receive(channel)))
        await asyncio.sleep(0)  # the receive starts, as a consumer's does
    connect = (time.perf_counter() - started) / TRIES
    started = time.perf_counter()
    for n in range(TRIES):
        await layer.group_send(f"user.{n % max(open_sockets, 1)}", {"type": "event.push", "text": "{}"})
    send = (time.perf_counter() - started) / TRIES
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    return connect, send


def main() -> int:
    print("| layer | sockets open | connect (group_add + receive) | group_send |")
    print("|---|---|---|---|")
    for name, layer_class in (("channels", InMemoryChannelLayer), ("realtime.layers", TandemInMemoryChannelLayer)):
        for size in SIZES:
            connect, send = asyncio.run(probe(layer_class, size))
            print(f"| {name} | {size:,} | {connect * 1e6:,.0f} µs | {send * 1e6:,.0f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
