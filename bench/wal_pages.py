"""Which tables and indexes a chat send writes, on SQLite: the pages its commits append to the log.

Sends `--count` messages of one pair (`message_send_many`, a batch of one, as the socket writer
does) after a checkpoint that empties the write-ahead log, with SQLite's own checkpoints off, then
reads the log's frames (one page each) and names each page's table or index (`dbstat`). Every
page a send writes is a frame appended to the log and copied to the database at the next
checkpoint: fewer pages, less work in both.

    .venv/bin/python bench/wal_pages.py [--database /tmp/wal-pages.sqlite3] [--count 50]
"""

import argparse
import collections
import struct
import time
from pathlib import Path

# The log's header, then each frame: a header of its own (the page's number first), then the page.
LOG_HEADER, FRAME_HEADER = 32, 24


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", default="/tmp/wal-pages.sqlite3", help="a SQLite file made afresh")
    ap.add_argument("--count", type=int, default=50, help="sends counted (after 30 to warm up)")
    args = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(args.database + suffix).unlink(missing_ok=True)
    from harness import befriend, django_in_this_process, make_user

    django_in_this_process(f"sqlite:///{args.database}")
    from django.db import connection

    from chat.services import OutgoingMessage, message_send_many
    from realtime.services import pushes_deferred

    run = time.time_ns()
    sender = make_user(f"wp{run}a")
    chat = befriend(sender, make_user(f"wp{run}b"))

    def send(number: int) -> None:
        message = OutgoingMessage(
            sender=sender, conversation_id=chat.pk, body=f"hello there, message {number}", client_id=f"{run}-{number}"
        )
        with pushes_deferred():
            (result,) = message_send_many(sends=[message])
        assert result.error is None, result.error

    for number in range(30):
        send(number)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for number in range(30, 30 + args.count):
        send(number)

    log = Path(args.database + "-wal").read_bytes()
    page_size = struct.unpack(">I", log[8:12])[0]
    pages = [
        struct.unpack(">I", log[start : start + 4])[0]
        for start in range(LOG_HEADER, len(log) - FRAME_HEADER - page_size + 1, FRAME_HEADER + page_size)
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, pageno FROM dbstat")
        owner = {page: name for name, page in cursor.fetchall()}
    written = collections.Counter(owner.get(page, "(a page freed since)") for page in pages)
    print(f"{len(pages)} pages written over {args.count} sends: {len(pages) / args.count:.1f} a send")
    for name, count in written.most_common():
        print(f"  {count / args.count:5.2f}  {name}")


if __name__ == "__main__":
    main()
