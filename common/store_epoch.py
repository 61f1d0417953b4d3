"""The store's epoch: which life of the database the seqs (and message ids) a client holds were
given in.

A chat send is acknowledged once its transaction commits, and by default that commit does not wait
for the disk: PostgreSQL with `CHAT_SYNCHRONOUS_COMMIT=off`, SQLite with `synchronous=NORMAL`. A
crash of PostgreSQL, or of the machine, may then lose the last fraction of a second of sends with
their events, and the numbers they had are given again to the next ones. A client that saw the
lost ones would take the new events for ones it has (a seq at or below its last) and miss them.

So every answer to `resume` carries the epoch, and a client resumes with the one it has: a
different one means its seqs may not name what they named, and it is told to `resync` (reload over
REST). The epoch changes whenever acknowledged writes can have been lost, and otherwise stays:

- PostgreSQL: when the server starts (`pg_postmaster_start_time()`), or when it starts its
  processes again after one of them crashed (without a restart of its own: its write-ahead log's
  buffers, with the commits that had not reached the disk, are gone; seen as the checkpointer's
  `backend_start`, which only a superuser or a member of `pg_read_all_stats` may read), or when
  another server answers (a promoted replica). A clean restart changes it too: one resync of every
  client, for nothing lost.
- SQLite: when the machine boots (Linux's boot id), since a crash of this process loses nothing
  committed, or when the database file is another one (restored from a copy).

The epoch is read again on every new database connection. A worker whose connections were cut
(PostgreSQL restarting) finds out on its next one; then every socket open on it is closed with
4012, and its client reconnects and resumes with the old epoch: resync. The pushes such a socket
got meanwhile it may have dropped as seen; the resync's reload has them.
"""

import asyncio
import contextlib
import hashlib
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path

from django.db import connections
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")

# The epoch last read, by database alias and name (a test database is another database, not another
# life of the same one).
_known: dict[tuple[str, str], str] = {}
_lock = threading.Lock()
# The sockets to close when the epoch changes, by the event loop that runs them.
_listeners: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.WeakSet]" = weakref.WeakKeyDictionary()


def store_epoch(using: str = "default") -> str:
    """The epoch of the database `using` (an opaque string of 16 characters)."""
    connection = connections[using]
    epoch = _known.get(_key(connection))
    if epoch is None:
        connection.ensure_connection()  # reads it (`_connected`), unless it was open already
        epoch = _known.get(_key(connection)) or _remember(connection, _read(connection))
    return epoch


def _key(connection) -> tuple[str, str]:
    return connection.alias, str(connection.settings_dict["NAME"])


def _read(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_postmaster_start_time()::text, (SELECT min(backend_start)::text FROM pg_stat_activity"
                " WHERE backend_type = 'checkpointer'), inet_server_addr()::text, inet_server_port()"
            )
            life = "postgresql:" + ":".join(str(part) for part in cursor.fetchone())
    else:
        life = f"{connection.vendor}:{_boot_id()}:{_file_identity(connection.settings_dict['NAME'])}"
    return hashlib.sha256(life.encode()).hexdigest()[:16]


def _boot_id() -> str:
    # Where there is no boot id (not Linux), the epoch of an SQLite file does not change with a boot:
    # a crash of that machine may lose the last seconds' sends without clients noticing.
    with contextlib.suppress(OSError):
        return BOOT_ID.read_text().strip()
    return ""


def _file_identity(name) -> str:
    try:
        stat = os.stat(name)
    except (OSError, TypeError, ValueError):  # in memory (":memory:", a "file:…?mode=memory" URI)
        return str(name)
    return f"{stat.st_dev}:{stat.st_ino}"


def _remember(connection, epoch: str) -> str:
    with _lock:
        previous = _known.get(_key(connection))
        _known[_key(connection)] = epoch
    if previous is not None and previous != epoch:
        logger.warning("The database's epoch changed (%s -> %s): open sockets are closed to resync", previous, epoch)
        _close_listeners()
    return epoch


def _connected(sender, connection, **kwargs) -> None:
    _remember(connection, _read(connection))


connection_created.connect(_connected, weak=False, dispatch_uid="store-epoch")


def watch_epoch(listener) -> None:
    """Calls `await listener.close_for_epoch()` (from its event loop) when the epoch changes."""
    loop = asyncio.get_running_loop()
    with _lock:
        _listeners.setdefault(loop, weakref.WeakSet()).add(listener)


def _close_listeners() -> None:
    # Called from whichever thread opened the connection: each loop closes its own sockets.
    with _lock:
        by_loop = [(loop, list(listeners)) for loop, listeners in _listeners.items()]
    for loop, listeners in by_loop:
        if listeners and not loop.is_closed():
            closes: list[Callable[[], Awaitable[None]]] = [listener.close_for_epoch for listener in listeners]
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_close_all, closes)


# The closes under way (the loop keeps only a weak reference to a task).
_closing: set[asyncio.Task] = set()


def _close_all(closes: list[Callable[[], Awaitable[None]]]) -> None:
    async def close_every_one() -> None:
        # A socket that closed meanwhile may fail to close again; the others still must.
        await asyncio.gather(*(close() for close in closes), return_exceptions=True)

    task = asyncio.get_running_loop().create_task(close_every_one())
    _closing.add(task)
    task.add_done_callback(_closing.discard)
