"""Statements sent to PostgreSQL without waiting for each one's answer (psycopg's pipeline mode).

Outside a pipeline every statement is a round trip: a message send's transaction was nine of them
(BEGIN, the INSERT, the search index, two UPDATEs, the members, the seqs, the events, COMMIT), each
waited for in turn, on PostgreSQL most of a send's time (bench/RESULTS.md, "Chat: round trips, the
pub/sub lock and the checkpoints"). Within `pipelined()` a statement whose result nobody reads (an
UPDATE, an INSERT without RETURNING) goes out with the next one whose result is read, and what is
left at the end in one more trip: the same statements, in the same order, in the same transaction.
psycopg still waits for BEGIN on its own, and COMMIT comes after the pipeline (Django's atomic).

What changes for the code inside: an error of a statement whose result was not read is raised where
the next result is read (or when the pipeline ends), not at its own line, and the statements after it
in the transaction are not run. Code that must tell which statement failed reads its result at once.

On any other database this does nothing.
"""

import contextlib

from django.db import connections


@contextlib.contextmanager
def pipelined(using: str = "default"):
    wrapper = connections[using]
    if wrapper.vendor != "postgresql":
        yield
        return
    # Connected (and the health check done) before the pipeline is opened: a reconnect inside it
    # would leave the pipeline on the connection that was replaced.
    wrapper.ensure_connection()
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    # Errors raised when the pipeline syncs (on leaving it) are psycopg's own: wrapped, they become
    # Django's and mark the connection for the check before its next use, as errors of a cursor do.
    with wrapper.wrap_database_errors, wrapper.connection.pipeline():
        yield


# From this many rows a statement's values go to PostgreSQL as one array per column (unnest) rather
# than a placeholder each or a statement each: psycopg dumps an array more slowly than the same values
# one by one (measured, CPU to send event rows: 1 row 0.33 ms as arrays against 0.18 ms as a row,
# 2 rows 0.29 against 0.24, 4 rows 0.36 against 0.39), while PostgreSQL parses one statement instead
# of one a row, and psycopg parses again, each time, any statement of more than 50 placeholders.
ROWS_AS_ARRAYS = 4


def as_arrays(rows: list) -> bool:
    """Whether `rows` go as arrays, one per column (`columns(rows)`), on this connection."""
    return len(rows) >= ROWS_AS_ARRAYS and connections["default"].vendor == "postgresql"


def columns(rows: list) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def write_rows(cursor, rows: list, *, per_row: str, as_columns: str) -> None:
    """Writes `rows`: `per_row` run once a row, or (`as_arrays`) `as_columns` run once with one array
    per column."""
    if as_arrays(rows):
        cursor.execute(as_columns, columns(rows))
    else:
        cursor.executemany(per_row, rows)


def one_of(ids: list, *, arrays: bool) -> tuple[str, list]:
    """A condition's right-hand side for "is one of `ids`" and its parameters: `= ANY` of one bigint
    array (`arrays`, from `as_arrays`), or `IN` with a placeholder an id."""
    if arrays:
        return "= ANY(%s::bigint[])", [ids]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)
