"""The chat writer's sync part alone, on a database of your choice: what one batch costs to store.

Runs `message_send_many` as the socket writer does (a batch of `--batch` sends from as many pairs,
inside `pushes_deferred`, `close_old_connections` before and after), in this process with no
server and no channel layer, and prints the wall time (p50, p99, max) and the CPU per batch.

    .venv/bin/python bench/send_path.py --database-url sqlite:////tmp/send.sqlite3 [--batch 1] [--count 400]
    .venv/bin/python bench/send_path.py --database-url postgres://postgres@127.0.0.1:5432/send_path --batch 20

With `--checkpoints` on SQLite, the WAL is checkpointed from a thread (common.sqlite_checkpoints,
what a serving process does) instead of inside the commits.
"""

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True, help="a database that may be migrated and written to")
    ap.add_argument("--count", type=int, default=400, help="batches timed (after 20 to warm up)")
    ap.add_argument("--batch", type=int, default=1, help="sends per batch, each from its own pair")
    ap.add_argument("--checkpoints", action="store_true", help="SQLite: checkpoint from a thread")
    args = ap.parse_args()
    from harness import befriend, django_in_this_process, make_user

    django_in_this_process(args.database_url)
    from django.db import close_old_connections, connection

    from chat.services import OutgoingMessage, message_send_many
    from realtime.services import pushes_deferred

    if args.checkpoints:  # imported only then: the script also times trees from before it existed
        from common.sqlite_checkpoints import start_sqlite_checkpoints

        start_sqlite_checkpoints()
    run = time.time_ns()
    pairs = []
    for n in range(args.batch):
        sender = make_user(f"sp{run}a{n}")
        pairs.append((sender, befriend(sender, make_user(f"sp{run}b{n}"))))
    walls, cpus = [], []
    for round_ in range(args.count + 20):
        sends = [
            OutgoingMessage(sender=sender, conversation_id=chat.pk, body=f"m{round_}", client_id=f"{run}-{round_}-{n}")
            for n, (sender, chat) in enumerate(pairs)
        ]
        close_old_connections()
        wall, cpu = time.perf_counter(), time.process_time()
        with pushes_deferred():
            results = message_send_many(sends=sends)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        close_old_connections()
        assert all(result.error is None for result in results), results
        if round_ >= 20:
            walls.append(1000 * wall)
            cpus.append(1000 * cpu)
    walls.sort()
    print(
        f"{connection.vendor}, batches of {args.batch}: wall p50 {statistics.median(walls):.2f} ms, "
        f"p99 {walls[int(len(walls) * 0.99)]:.2f} ms, max {walls[-1]:.2f} ms; "
        f"CPU {statistics.mean(cpus):.2f} ms a batch (mean of {args.count})"
    )


if __name__ == "__main__":
    main()
