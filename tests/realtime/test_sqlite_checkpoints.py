"""A serving process on the embedded default copies SQLite's log back into the database file from a
thread of its own (common.sqlite_checkpoints), not inside whichever commit takes the log past
1,000 pages: within seconds of a write, without starting the log over after every few commits of
an idle server, and without letting it grow without end under a steady load.

The server here is `config.serve` on a SQLite file of the test's own, whatever database this run's
other tests use: the embedded default is what checkpoints, and the tests run on both of CI's
stages. The writer is a connection of the test's own, which commits as the server's do (WAL, no
checkpoint of its own): which connection writes does not change when the log is copied or
started over.
"""

import os
import sqlite3
import time
from contextlib import contextmanager

from common.sqlite_checkpoints import RESTART_PAGES
from tests.live import LiveDaphne


def in_the_database_file(path, value: int) -> bool:
    """Whether the row is in the database file itself: `immutable` reads the file and not the log.
    Until a checkpoint the file holds no table at all, and a read while a checkpoint writes may find
    it half-written: both are "not yet"."""
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as reader:
            return reader.execute("SELECT 1 FROM written WHERE value = ?", [value]).fetchone() is not None
    except sqlite3.DatabaseError:
        return False


def times_the_log_started_over(path) -> int:
    """The checkpoint sequence number in the log's header (bytes 12-15, big-endian,
    https://www.sqlite.org/fileformat2.html#walformat): one more each time a writer starts the log
    over, which that writer's commit pays for with a sync of the header."""
    with open(f"{path}-wal", "rb") as log:
        return int.from_bytes(log.read(16)[12:16], "big")


@contextmanager
def serving_beside_a_writer(tmp_path):
    """A writer that never checkpoints (and stays open: the last connection to close would), and a
    serving process on the same file; yields the writer and the file's path."""
    path = tmp_path / "embedded.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA synchronous=NORMAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE written (value INTEGER, padding BLOB)")
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    server = LiveDaphne({**env, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": f"sqlite:///{path}"})
    server.start()
    try:
        yield writer, path
    finally:
        server.stop()
        writer.close()


def test_a_serving_process_checkpoints_what_another_connection_wrote(tmp_path):
    with serving_beside_a_writer(tmp_path) as (writer, path):
        writer.execute("INSERT INTO written (value) VALUES (42)")
        assert not in_the_database_file(path, 42)  # only in the log so far

        deadline = time.monotonic() + 15
        while not in_the_database_file(path, 42):
            assert time.monotonic() < deadline, "the serving process did not checkpoint within 15 s"
            time.sleep(0.2)


def test_an_idle_servers_commits_do_not_start_the_log_over(tmp_path):
    """A message every quarter of a second for 3 s: the log is copied when it is long or old, not
    after every few commits (checkpointing every second started it over 3 times here)."""
    with serving_beside_a_writer(tmp_path) as (writer, path):
        writer.execute("INSERT INTO written (value) VALUES (0)")
        before = times_the_log_started_over(path)
        for value in range(1, 13):
            time.sleep(0.25)
            writer.execute("INSERT INTO written (value) VALUES (?)", [value])
        assert times_the_log_started_over(path) - before <= 1


def test_under_a_steady_load_the_log_stays_bounded(tmp_path):
    """Writes of about 9 pages every millisecond or so, with readers between them, as a busy chat
    writes: the log is started over, so its file stays near RESTART_PAGES long. With a PASSIVE
    checkpoint every second the log was never started over, and the file grew with every write."""
    with serving_beside_a_writer(tmp_path) as (writer, path):
        page_size = writer.execute("PRAGMA page_size").fetchone()[0]
        reader = sqlite3.connect(path, isolation_level=None)
        rows = 16
        writer.executemany("INSERT INTO written (value, padding) VALUES (?, zeroblob(0))", [[n] for n in range(rows)])
        blob_bytes, largest, updates = 32000, 0, 0
        while updates * blob_bytes < 3 * RESTART_PAGES * page_size:
            writer.execute("UPDATE written SET padding = randomblob(?) WHERE value = ?", [blob_bytes, updates % rows])
            reader.execute("SELECT count(*) FROM written").fetchone()
            updates += 1
            largest = max(largest, os.path.getsize(f"{path}-wal"))
            time.sleep(0.001)
        reader.close()
        assert largest < 1.5 * RESTART_PAGES * page_size, f"the log's file grew to {largest / page_size:.0f} pages"
