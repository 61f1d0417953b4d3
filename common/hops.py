"""Hops into the threads that do a WebSocket's database work: `database_sync_to_async`, but with
CONN_HEALTH_CHECKS' `SELECT 1` at most once a second per connection; and the connect thread.

**Health checks.** Django checks a kept connection (`SELECT 1`) before its first query after each
`close_old_connections()`, and `database_sync_to_async` calls that around every hop: a reconnect
and resume made three of those round trips besides its five queries (on PostgreSQL + Redis, a
third of the connect thread's time and a quarter of the database thread's during a reconnect
storm; bench/RESULTS.md, "Connect storm: fourth pass"). A connection that passed a check (or was
opened) within the last HEALTHY_FOR seconds is not checked again by these hops. What the check
guards against, a connection that broke while idle (the server restarted, say), still holds after
any idle second; within that second a broken connection fails the one query (an error, as if it
had broken between the check and the query), and is then closed and opened anew as before, since
`close_old_connections()` after the hop still tests a connection that raised.

**The connect thread.** The one thread `database_sync_to_async` shares by default also runs every
resume's replay and every message write, one at a time in arrival order. After a restart every
client connects and resumes at once: a handshake waiting there behind the replays of the sockets
let in before it took as long as all of them, and the connect gate (config.connect_gate) lets the
next ones in only as handshakes finish. In a thread of their own, handshakes queue only behind
each other. One thread: a user's opens and closes keep their order (presence counts, and the
online/offline they announce).
"""

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.db import close_old_connections, connections

HEALTHY_FOR = 1.0

connect_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presence")


@contextlib.contextmanager
def connections_checked_recently(healthy_for: float | None = None, *, recycled: bool = True):
    """What `database_sync_to_async` does around a hop (`close_old_connections` before and after),
    with a connection checked or opened within the last `healthy_for` seconds (HEALTHY_FOR) trusted
    (see above). `recycled=False`: the thread's connections are kept past CONN_MAX_AGE (closed only
    when they fail)."""
    healthy_for = HEALTHY_FOR if healthy_for is None else healthy_for
    if not recycled:
        for connection in connections.all(initialized_only=True):
            connection.close_at = None
    close_old_connections()
    now = time.monotonic()
    trusted = set()
    for connection in connections.all(initialized_only=True):
        checked_at = getattr(connection, "checked_at", None)
        if connection.connection is not None and checked_at is not None and now - checked_at < healthy_for:
            connection.health_check_done = True  # checked within the last HEALTHY_FOR seconds
            trusted.add(connection.alias)
    try:
        yield
    finally:
        now = time.monotonic()
        for connection in connections.all(initialized_only=True):
            # Checked (or opened) during this hop, and nothing went wrong since.
            if (
                connection.alias not in trusted
                and connection.health_check_done
                and connection.connection is not None
                and not connection.errors_occurred
            ):
                connection.checked_at = now
        close_old_connections()


class DatabaseHop(SyncToAsync):
    """channels.db.database_sync_to_async, with the health checks above."""

    def thread_handler(self, loop, *args, **kwargs):
        with connections_checked_recently():
            return super().thread_handler(loop, *args, **kwargs)


def database_hop(function):
    """`database_sync_to_async(function)`, health-checked at most once a second (see above)."""
    return DatabaseHop(function)


def in_connect_thread(function):
    """`database_sync_to_async(function)`, run in the connect thread (and health-checked as above)."""
    return DatabaseHop(function, thread_sensitive=False, executor=connect_thread)
