"""The embedded SQLite database's WAL checkpoints, from a thread of their own while a worker serves.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync) inside
the commit that takes the log past 1,000 pages. A chat message's transaction writes about 22 pages,
so every 45th send or so waited 4-12 ms for a checkpoint inside its own commit: on an idle server,
the chat's p99 (bench/RESULTS.md, "Chat: round trips, the pub/sub lock and the checkpoints"). A
serving process (config.serve: `make run`, the benchmarks, the test suite's live servers) turns
that off for its own connections and checkpoints from a thread every second instead: PASSIVE,
which waits for nobody, while writers go on appending to the log. Other processes (management commands, the
test process) keep SQLite's default, so nothing they write depends on a thread they do not run.
"""

import logging
import threading
import time

from django.db import connections
from django.db.backends.signals import connection_created

EVERY_SECONDS = 1.0

logger = logging.getLogger(__name__)
_started = threading.Event()


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
    while True:
        time.sleep(EVERY_SECONDS)
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a checkpoint missed is made up by the next one
            logger.exception("SQLite checkpoint failed")
            connections[alias].close()
