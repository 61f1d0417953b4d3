"""The embedded SQLite database's WAL checkpoints, from a thread of their own while a worker serves.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync) inside
the commit that takes the log past 1,000 pages. A chat message's transaction writes about 27 pages,
so every 37th send or so waited 4-12 ms for a checkpoint inside its own commit: on an idle server,
the chat's p99 (bench/RESULTS.md, "Chat: round trips, the pub/sub lock and the checkpoints"). A
serving process (config.serve: `make run`, the benchmarks, the test suite's live servers) turns
that off for its own connections and checkpoints from a thread instead. Other processes
(management commands, the test process) keep SQLite's default, so nothing they write depends on a
thread they do not run.

When the thread checkpoints is decided by how much of the log is waiting to be copied, read every
0.1 s from the wal-index (the `-shm` file, https://www.sqlite.org/walformat.html), not by the clock
alone (bench/RESULTS.md, "Chat: checkpoints by the log's length, and the loop's savepoint"):

- 1,000 pages waiting, SQLite's own threshold: a PASSIVE checkpoint, which waits for nobody while
  writers go on appending. Under load that is a small one every tick or two.
- Fewer, but the oldest waiting for 5 s: the same. With `synchronous=NORMAL` a commit is only in
  the log until a checkpoint syncs it, so this bounds what a power cut can take. More often costs
  the senders: the first commit after a complete checkpoint starts the log over and syncs its
  header, 0.8-1.5 ms here, which every other send paid at 2 msgs/s when the thread checkpointed
  every second.
- The log 10,000 pages long (40 MB) since it last started over: also a RESTART checkpoint. Under a
  steady load a PASSIVE checkpoint does copy all of the log, but a writer starts it over only when
  no reader is still on it, and at 500 msgs/s one always was: the log grew to 1.1 GB in 20 s. A
  RESTART one takes the writer lock, copies what is left, and waits up to 3 ms for the readers to
  leave the log, so that the next commit starts it over; if the writer lock or the readers are
  not free by then, it gives up until the next tick. Writers wait for it, 2.4-10 ms measured,
  about once a second at 500 msgs/s.
"""

import logging
import struct
import threading
import time
from typing import NamedTuple

from django.db import connections
from django.db.backends.signals import connection_created

TICK_SECONDS = 0.1
WAITING_PAGES = 1_000
WAITING_SECONDS = 5.0
RESTART_PAGES = 10_000
RESTART_WAIT_MS = 3

logger = logging.getLogger(__name__)
_started = threading.Event()


class LogState(NamedTuple):
    """Frames in the log since it last started over, and how many of them are in the database file."""

    length: int
    copied: int

    @property
    def waiting(self) -> int:
        return max(self.length - self.copied, 0)


def log_state(database_path: str) -> LogState | None:
    """The log's state as the wal-index holds it: `mxFrame` at byte 16 of its header and
    `nBackfill` at byte 96, in the machine's byte order. None while there is no wal-index. A read
    that races a writer may see a half-written header; it only decides when to checkpoint."""
    try:
        with open(f"{database_path}-shm", "rb") as shm:
            header = shm.read(100)
    except FileNotFoundError:
        return None
    if len(header) < 100:
        return None
    return LogState(struct.unpack_from("=I", header, 16)[0], struct.unpack_from("=I", header, 96)[0])


def start_sqlite_checkpoints(alias: str = "default") -> bool:
    """Checkpoints from a thread from now on, when `alias` is a SQLite file; whether it started."""
    wrapper = connections[alias]
    if wrapper.vendor != "sqlite" or wrapper.is_in_memory_db() or _started.is_set():
        return False
    _started.set()
    connection_created.connect(_no_checkpoint_on_commit, weak=False, dispatch_uid="sqlite-checkpoints")
    for open_one in connections.all(initialized_only=True):
        if open_one.connection is not None:
            _no_checkpoint_on_commit(None, open_one)
    threading.Thread(target=_checkpoint_forever, args=(alias,), daemon=True, name="sqlite-checkpoints").start()
    return True


def _no_checkpoint_on_commit(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")


def _checkpoint_forever(alias: str) -> None:
    database_path = str(connections[alias].settings_dict["NAME"])
    waiting_since = None
    while True:
        time.sleep(TICK_SECONDS)
        log = log_state(database_path)
        if log is None or not log.waiting:
            waiting_since = None
            continue
        now = time.monotonic()
        waiting_since = waiting_since or now
        if log.waiting < WAITING_PAGES and now - waiting_since < WAITING_SECONDS:
            continue
        try:
            _checkpoint(alias, restart=log.length >= RESTART_PAGES)
        except Exception:  # a checkpoint missed is made up by the next one
            logger.exception("SQLite checkpoint failed")
            connections[alias].close()
        waiting_since = None


def _checkpoint(alias: str, restart: bool) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if restart:
            # A short busy timeout: it is the time the writers may wait behind this one for the
            # readers to leave the log. The connection's own (20 s) would stall every sender.
            cursor.execute("PRAGMA busy_timeout")
            (busy_timeout,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout = {RESTART_WAIT_MS}")
            try:
                cursor.execute("PRAGMA wal_checkpoint(RESTART)")
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
