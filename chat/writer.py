"""Group commit for the /ws/ consumer: the sends waiting from every socket of a process, stored together.

A transaction per message spends most of its time committing; while one batch is being
stored, the next one gathers. The consumer hands each accepted `message.send` to the
writer of its event loop and answers the client when the send's future resolves.
"""

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

from common.errors import ServiceError

from . import services
from .serializers import MessageSerializer

# Most sends stored in one transaction by the writer.
MAX_BATCH = 200

logger = logging.getLogger(__name__)

StoreResult = tuple[dict | None, Exception | None]


@database_sync_to_async
def _store_batch(sends: list[services.OutgoingMessage]) -> list[tuple[dict | None, ServiceError | None]]:
    results = services.message_send_many(sends=sends)
    return [
        (
            r.rendered or (MessageSerializer(r.message, context={"viewer": send.sender}).data if r.message else None),
            r.error,
        )
        for send, r in zip(sends, results, strict=True)
    ]


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
                if len(sends) == 1:
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
