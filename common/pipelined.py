"""Statements sent to PostgreSQL without waiting for each one's answer (psycopg's pipeline mode).

Outside a pipeline every statement is a round trip: a message send's transaction was nine of them
(BEGIN, the INSERT, the search index, two UPDATEs, the members, the seqs, the events, COMMIT), each
waited for in turn, on PostgreSQL most of a send's time (bench/RESULTS.md, "Chat: round trips, the
pub/sub lock and the checkpoints"). Within `pipelined()` a statement whose result nobody reads (an
UPDATE, an INSERT without RETURNING) goes out with the next one whose result is read, and what is
left at the end in one more trip: the same statements, in the same order, in the same transaction.
A transaction begun by an atomic block around the pipeline has its BEGIN sent with the first
statements (`_begin_ours`), and its COMMIT with the last ones when `commit_queued` is called.

What changes for the code inside: an error of a statement whose result was not read is raised where
the next result is read (or when the pipeline ends), not at its own line, and the statements after it
in the transaction are not run. Code that must tell which statement failed reads its result at once.

On any other database this does nothing.
"""

import contextlib
import threading
from collections.abc import Callable

from django.db import connections
from psycopg.pq import TransactionStatus


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
    pg = wrapper.connection
    began = _begin_ours(pg)
    try:
        # Errors raised when the pipeline syncs (on leaving it) are psycopg's own: wrapped, they become
        # Django's and mark the connection for the check before its next use, as errors of a cursor do.
        with wrapper.wrap_database_errors, pg.pipeline():
            if began:
                pg.execute("BEGIN")
            _open.pipelines = getattr(_open, "pipelines", 0) + 1
            try:
                yield
            finally:
                _open.pipelines -= 1
    finally:
        if began and pg.info.transaction_status == TransactionStatus.IDLE:
            # Committed within the pipeline (commit_queued), or never begun: psycopg's autocommit is
            # Django's again. A transaction left open (its commit is an outer block's) or failed keeps
            # it on until Django commits or rolls back, which psycopg does all the same; statements
            # between still run inside it, since the server's transaction is open.
            pg.autocommit = False


def _begin_ours(pg) -> bool:
    """Whether the pipeline sends its transaction's BEGIN itself, with the first statements: in an
    atomic block whose transaction has not begun, psycopg begins it before the first statement and,
    in a pipeline, then syncs to learn the transaction's status, a round trip for BEGIN alone. So
    psycopg's autocommit is switched on (outside the pipeline, where that costs no sync) and the
    pipeline's first statement is BEGIN; Django's own state is unchanged. Only a plain BEGIN: a
    connection with an isolation level, read-only or deferrable set is left to psycopg."""
    if pg.autocommit or pg.info.transaction_status != TransactionStatus.IDLE:
        return False
    if (pg.isolation_level, pg.read_only, pg.deferrable) != (None, None, None):
        return False
    pg.autocommit = True
    return True


# How many `pipelined` blocks this thread is in (a connection is a thread's own).
_open = threading.local()


def commit_queued(using: str = "default") -> None:
    """Inside `pipelined`, within the outermost atomic block and as its last statement: queues the
    transaction's COMMIT, so that it goes with the pipeline's last statements in the one round trip
    of the pipeline's end. psycopg sends Django's COMMIT only after the pipeline, a round trip of
    its own. Django's atomic block then finds the transaction ended (psycopg knows the server's
    transaction status and sends nothing) and runs its on_commit hooks as after any commit; a
    statement or a COMMIT that fails raises where the pipeline ends, still inside the atomic block,
    which rolls back as for any error. Anywhere else (a savepoint, a transaction marked for
    rollback, another database) it does nothing and the atomic block commits as usual."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql" or not getattr(_open, "pipelines", 0):
        return
    if len(wrapper.atomic_blocks) != 1 or wrapper.savepoint_ids or wrapper.needs_rollback:
        return
    with wrapper.cursor() as cursor:
        cursor.execute("COMMIT")


def asked(sql: str, params, *, using: str = "default") -> Callable[[], list]:
    """Runs a SELECT (or a statement with RETURNING) and returns the function that reads its rows:
    within `pipelined` the question goes out with the statements after it, and its answer is read
    when the pipeline has synced (on leaving it) or when the function is called, whichever is first."""
    connection = connections[using]
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        if connection.vendor != "postgresql":
            # Read at once: only a pipeline gains by waiting, and on SQLite a SELECT not read to its
            # end keeps its snapshot open (on a failed INSERT, past the transaction: later reads see
            # old data).
            rows = cursor.fetchall()
            cursor.close()
            return lambda: rows
    except BaseException:
        cursor.close()
        raise

    def answer() -> list:
        with cursor:
            return cursor.fetchall()

    return answer


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
