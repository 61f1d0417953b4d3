"""A serving process on the embedded default copies SQLite's log back into the database file from a
thread of its own, every second (common.sqlite_checkpoints), not inside whichever commit takes the
log past 1,000 pages.

The server here is `config.serve` on a SQLite file of the test's own, whatever database this run's
other tests use: the embedded default is what checkpoints, and the test runs on both of CI's stages.
"""

import os
import sqlite3
import time

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


def test_a_serving_process_checkpoints_what_another_connection_wrote(tmp_path):
    path = tmp_path / "embedded.sqlite3"
    # A writer that never checkpoints (and stays open: the last connection to close would).
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE written (value INTEGER)")
    writer.execute("INSERT INTO written VALUES (42)")
    assert not in_the_database_file(path, 42)  # only in the log so far

    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    server = LiveDaphne({**env, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": f"sqlite:///{path}"})
    server.start()
    try:
        deadline = time.monotonic() + 15
        while not in_the_database_file(path, 42):
            assert time.monotonic() < deadline, "the serving process did not checkpoint within 15 s"
            time.sleep(0.2)
    finally:
        server.stop()
        writer.close()
