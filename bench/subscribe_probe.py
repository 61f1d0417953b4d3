"""What a storm of connects costs the Redis pub/sub layer's SUBSCRIBEs, channels-redis' layer against
realtime.layers' (which sends the SUBSCRIBEs that wait together as one command).

In-process, no server: CONNECTS sockets connect at once, as after a worker restart (each makes its
channel, joins its user's group, SOCKETS_PER_USER to a user, as the storm bench's clients do, and
starts its receive), then every one closes. Process CPU and wall time per connect, the two layers
in turns.

    .venv/bin/python bench/subscribe_probe.py --redis-url redis://127.0.0.1:6379/N
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels_redis.pubsub import RedisPubSubChannelLayer as ChannelsLayer

from realtime.layers import RedisPubSubChannelLayer as TandemLayer

SOCKETS_PER_USER = 4


async def storm(layer, connects: int) -> tuple[float, float]:
    async def connect(n: int):
        channel = await layer.new_channel()
        await layer.group_add(f"user.{n // SOCKETS_PER_USER}", channel)
        return channel, asyncio.ensure_future(layer.receive(channel))

    began, cpu = time.perf_counter(), time.process_time()
    sockets = await asyncio.gather(*(connect(n) for n in range(connects)))
    await asyncio.sleep(0)
    took = (time.perf_counter() - began) / connects * 1000, (time.process_time() - cpu) / connects * 1000
    for n, (channel, receiving) in enumerate(sockets):
        receiving.cancel()
        await layer.group_discard(f"user.{n // SOCKETS_PER_USER}", channel)
    await asyncio.gather(*(receiving for _, receiving in sockets), return_exceptions=True)
    return took


async def main(redis_url: str, connects: int, rounds: int) -> None:
    config = {"hosts": [{"address": redis_url}], "prefix": f"subprobe{os.getpid()}"}
    layers = {"channels-redis": ChannelsLayer(**config), "realtime.layers": TandemLayer(**config)}
    for layer in layers.values():
        await storm(layer, 50)  # warm: connections, receivers
    print(f"{'layer':16} per connect of {connects} at once: wall, CPU")
    for _ in range(rounds):
        for name, layer in layers.items():
            wall, cpu = await storm(layer, connects)
            print(f"{name:16} {wall:6.3f} ms {cpu:6.3f} ms")
    for layer in layers.values():
        await layer.flush()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--connects", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.redis_url, args.connects, args.rounds))
