"""The chat writer alone under load: sends arriving at random at a given rate, stored by `chat.writer`.

Runs a `MessageWriter` in this process, with no server, no socket and no channel layer beyond the
in-memory one, and offers it `--rate` sends a second (Poisson arrivals, each from one of
`--senders` pairs in turn, a fixed random seed) for `--seconds` after 2 s of warm-up. Prints the
rate answered, the time from submit to answer (p50, p99), the batches the writer made and their
mean size, and this process's CPU per send (the load's own included). Less noisy than the chat
benchmark for a change of the writer alone: nothing else shares the process. Run it from each
checkout in turns on the same database.

    .venv/bin/python bench/writer_load.py --database-url postgres://postgres@127.0.0.1:5432/wl --rate 500
"""

import argparse
import asyncio
import random
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True, help="a database that may be migrated and written to")
    ap.add_argument("--rate", type=float, default=500, help="sends offered a second")
    ap.add_argument("--seconds", type=float, default=10, help="seconds measured, after 2 of warm-up")
    ap.add_argument("--senders", type=int, default=20, help="pairs the sends come from, in turns")
    args = ap.parse_args()
    from harness import befriend, django_in_this_process, make_user

    django_in_this_process(args.database_url)

    from chat import services, writer
    from chat.services import OutgoingMessage

    run = time.time_ns()
    pairs = []
    for n in range(args.senders):
        sender = make_user(f"wl{run}a{n}")
        pairs.append((sender, befriend(sender, make_user(f"wl{run}b{n}"))))
    batches: list[int] = []
    store = services.message_send_many

    def counted(*, sends, **kwargs):
        batches.append(len(sends))
        return store(sends=sends, **kwargs)

    services.message_send_many = counted
    waits: list[float] = []

    async def one(batcher, n: int, phase: str) -> None:
        sender, chat = pairs[n % len(pairs)]
        send = OutgoingMessage(sender=sender, conversation_id=chat.pk, body=f"m{n}", client_id=f"{run}-{phase}-{n}")
        started = time.perf_counter()
        _, error = await batcher.submit(send)
        assert error is None, error
        waits.append(1000 * (time.perf_counter() - started))

    async def offer(batcher, seconds: float, phase: str) -> None:
        arrivals = random.Random(1)
        started = time.monotonic()
        due, n, pending = started, 0, []
        while due < started + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            pending.append(asyncio.ensure_future(one(batcher, n, phase)))
            n += 1
            due += arrivals.expovariate(args.rate)
        await asyncio.gather(*pending)

    async def measure() -> None:
        batcher = writer.MessageWriter()
        await offer(batcher, 2, "warm")
        waits.clear()
        batches.clear()
        wall, cpu = time.monotonic(), time.process_time()
        await offer(batcher, args.seconds, "timed")
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        batcher.task.cancel()
        cut = statistics.quantiles(waits, n=100)
        print(
            f"offered {args.rate:.0f}/s: answered {len(waits) / wall:.0f}/s, "
            f"p50 {cut[49]:.2f} ms, p99 {cut[98]:.2f} ms; "
            f"{len(batches)} batches of {statistics.mean(batches):.2f}; CPU {1000 * cpu / len(waits):.3f} ms a send"
        )

    asyncio.run(measure())


if __name__ == "__main__":
    main()
