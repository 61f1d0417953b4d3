"""Group commit for the /ws/ consumer: the sends waiting from every socket of a process, stored together.

A transaction per message spends most of its time committing; while one batch is being
stored, the next one gathers. The consumer hands each accepted `message.send` to the
writer of its event loop and answers the client when the send's future resolves.

On SQLite a small batch is stored on the event loop itself, not in the writer's thread
(`_stores_on_the_loop`).
"""

import asyncio
import contextlib
import logging
import math
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.db import InterfaceError, OperationalError, connection, transaction

from common.hops import connections_checked_recently
from realtime.services import push_now, pushes_deferred

from . import services
from .serializers import MessageSerializer

# Most sends stored in one transaction by the writer.
MAX_BATCH = 200
# Most sends of a batch stored on the event loop, on SQLite (`_stores_on_the_loop`).
LOOP_BATCH_MAX = 4

logger = logging.getLogger(__name__)

StoreResult = tuple[dict | None, Exception | None]


# The writers' thread: every batch of every event loop of the process, one at a time, on a connection
# of its own. Not `database_sync_to_async`'s shared thread: there a batch waited behind every resume's
# replay and REST request of the process. A plain executor, without asgiref's context copies; the hop
# is then mostly the thread's wake-up, about 0.2 ms each way on an idle server (bench/RESULTS.md,
# "Chat: the idle floor, fourth pass").
writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-writer")


async def _store_batch_sync(sends: list[services.OutgoingMessage]) -> tuple[list[StoreResult] | Exception, list]:
    if _stores_on_the_loop(sends):
        with _running_loop_set_aside():
            answers, pushes = _store_sync(sends, on_the_loop=True)
        # Refused the lock (another connection is writing), a client_id sent before, or failed
        # otherwise: on the loop the batch is one transaction, so nothing of it was stored (and
        # nothing pushed). The thread stores it, waits for the lock if it must, and answers a
        # client_id sent before with its first message.
        if not (isinstance(answers, Exception) and not pushes):
            return answers, pushes
    return await asyncio.get_running_loop().run_in_executor(writer_thread, _store_sync, sends)


def _stores_on_the_loop(sends: list[services.OutgoingMessage]) -> bool:
    """Whether this batch is stored on the event loop rather than in the writer's thread.

    SQLite is a library in this process, and with WAL and synchronous=NORMAL a commit waits on
    neither a disk nor a network: a batch of one is about half a millisecond of CPU wherever it
    runs. In the writer's thread that CPU is the same, but the thread and the loop take turns at the
    GIL (every SQLite call releases it and takes it back) and wake each other twice a batch: at 500
    msgs/s those hand-offs cost more than the work (bench/RESULTS.md, "Chat: the writer on the event
    loop"). Larger batches, which come when the loop is saturated, still go to the thread, where
    SQLite's own work overlaps the loop's.

    The loop never waits for SQLite's write lock (`_all_or_nothing_at_once`). Not with an `admit` to
    call (it may wait for the loop: a count in Redis), nor in a transaction the loop's thread
    already holds (a test's).
    """
    return (
        len(sends) <= LOOP_BATCH_MAX
        and all(send.admit is None for send in sends)
        and connection.vendor == "sqlite"
        and not connection.in_atomic_block
    )


@contextlib.contextmanager
def _running_loop_set_aside():
    # Django refuses the ORM in a thread that runs an event loop (SynchronousOnlyOperation), against
    # blocking the loop by mistake. This blocks it on purpose, for a batch of SQLite work; the loop
    # is hidden only for that call, and nothing in it awaits.
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


def _all_or_nothing_at_once(*, sends: list[services.OutgoingMessage]) -> list[services.SendResult]:
    """The batch on the loop's own connection, which gives up on a write lock held elsewhere at once
    rather than wait for it (SQLite would sleep, and the loop with it). In one transaction, a channel's
    automatic replies included, whose lock is taken at its start (`BEGIN IMMEDIATE`): given up, nothing
    was done."""
    connection.ensure_connection()
    if getattr(connection, "gives_up_on_locks", None) is not connection.connection:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 0")
        connection.gives_up_on_locks = connection.connection
    with transaction.atomic():
        return services.message_send_many(sends=sends, all_or_nothing=True)


def _store_sync(
    sends: list[services.OutgoingMessage], on_the_loop: bool = False
) -> tuple[list[StoreResult] | Exception, list]:
    # The pushes come back with the answers rather than going from this thread into the loop and
    # back: the writer, in the loop, sends them as soon as this returns. What was committed is
    # pushed even if something failed after a commit (the retry of a batch one send at a time).
    # The connection is not health-checked before a batch (common.hops checks the other hops' at most
    # once a second), nor closed after CONN_MAX_AGE, where one is set, to be opened again. On
    # PostgreSQL the check's ping is a round trip of its own, which every send after a quiet second
    # paid (0.6-1 ms at idle), and a new connection about 7 ms and its new backend's cold caches more,
    # which the first send after a quiet minute paid while CONN_MAX_AGE was 60 s (bench/RESULTS.md,
    # "Chat: the store's epoch, and a send after a quiet spell"). Neither makes a
    # send safer: a connection that died (a restart of the server, an idle timeout) fails its batch
    # at once, which is then retried send by send on a new connection (MessageWriter.run), and
    # client_ids make retries safe.
    with connections_checked_recently(healthy_for=math.inf, recycled=False), pushes_deferred() as pushes:
        try:
            store = _all_or_nothing_at_once if on_the_loop else services.message_send_many
            results = store(sends=sends)
            answers = [
                (
                    r.rendered
                    or (MessageSerializer(r.message, context={"viewer": send.sender}).data if r.message else None),
                    r.error,
                )
                for send, r in zip(sends, results, strict=True)
            ]
        except Exception as exc:
            return exc, pushes
    return answers, pushes


async def _store_batch(sends: list[services.OutgoingMessage]) -> list[StoreResult]:
    """Stores the batch in one transaction, then pushes its events; the answers once both are done."""
    answers, pushes = await _store_batch_sync(sends)
    # Pushes first, as when they left from the commit: a sender's other sockets and the
    # recipients hear of the message no later than the sender hears it was stored. The other
    # members' before the senders' own (who are answered by the ack anyway); the sort is
    # stable, so each user's pushes keep their seq order.
    senders = {send.sender.pk for send in sends}
    pushes.sort(key=lambda push: push[0] in senders)
    await push_now(pushes)
    if isinstance(answers, Exception):
        raise answers
    return answers


class MessageWriter:
    """Stores sends in arrival order (so each socket's messages keep their order), a batch per transaction."""

    def __init__(self):
        self.waiting: asyncio.Queue[tuple[services.OutgoingMessage, asyncio.Future]] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self.run())

    def submit(self, send: services.OutgoingMessage) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting.put_nowait((send, future))
        return future

    async def run(self) -> None:
        while True:
            batch = [await self.waiting.get()]
            while len(batch) < MAX_BATCH and not self.waiting.empty():
                batch.append(self.waiting.get_nowait())
            sends = [send for send, _ in batch]
            try:
                results = await _store_batch(sends)
            except Exception as exc:
                # A lost connection is worth one more try even for a lone send: the retry runs on a new one.
                if len(sends) == 1 and not isinstance(exc, OperationalError | InterfaceError):
                    logger.exception("Storing a message failed")
                    results = [(None, exc)]
                else:
                    # The batch is one transaction, so nothing of it was stored: each send goes again
                    # alone, and only the one that cannot be stored is refused (retries are safe:
                    # client_id makes them idempotent).
                    logger.warning("Storing a batch of %d messages failed; storing them one by one", len(sends))
                    results = [await self._store_alone(send) for send in sends]
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    @staticmethod
    async def _store_alone(send: services.OutgoingMessage) -> StoreResult:
        try:
            (result,) = await _store_batch([send])
        except Exception as exc:
            logger.exception("Storing a message failed")
            return None, exc
        return result


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter]" = weakref.WeakKeyDictionary()


def message_writer() -> MessageWriter:
    """The writer of the running event loop (one per daphne process; tests run several loops)."""
    loop = asyncio.get_running_loop()
    if loop not in _writers:
        _writers[loop] = MessageWriter()
    return _writers[loop]
