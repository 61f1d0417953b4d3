"""Tandem's ASGI application with a timestamp at each hop of the send path (bench/hop_trace.py).

Only for one message at a time (the idle floor): every stamp is filed under the client_id of
the last `message.send` frame received. Writes "client_id<TAB>hop<TAB>perf_counter" lines to
$HOP_TRACE_FILE. Never part of Tandem.
"""

import functools
import os
import time

import django

django.setup()

import orjson  # noqa: E402

import chat.consumers as consumers  # noqa: E402
import chat.services as services  # noqa: E402
import chat.services.messages as messages  # noqa: E402
import chat.writer as writer  # noqa: E402
import realtime.services as realtime  # noqa: E402
from config.asgi import application  # noqa: E402, F401

_out = open(os.environ["HOP_TRACE_FILE"], "a", buffering=1)  # noqa: SIM115
_current = ["?"]


def stamp(hop: str) -> None:
    _out.write(f"{_current[0]}\t{hop}\t{time.perf_counter()!r}\n")


def around_async(owner, name: str, hop: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args, **kwargs):
        stamp(f"{hop} start")
        try:
            return await original(*args, **kwargs)
        finally:
            stamp(f"{hop} end")

    setattr(owner, name, wrapper)


def around_sync(owner, name: str, hop: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        stamp(f"{hop} start")
        try:
            return original(*args, **kwargs)
        finally:
            stamp(f"{hop} end")

    setattr(owner, name, wrapper)


_receive = consumers.TandemConsumer.receive


async def receive(self, text_data=None, bytes_data=None):
    frame = orjson.loads(text_data)
    if frame.get("type") == "message.send":
        _current[0] = frame["client_id"]
        stamp("consumer.receive (sender's socket)")
    return await _receive(self, text_data, bytes_data)


consumers.TandemConsumer.receive = receive
if hasattr(consumers, "_message_take"):  # awaited before the writer (until the sixth pass)
    around_async(consumers, "_message_take", "message rate limit")
else:  # counted in a task of its own while the writer reads what the send needs
    around_async(consumers, "action_atake", "message rate limit (beside the writer)")
around_sync(writer.MessageWriter, "submit", "writer.submit")
around_async(writer, "_store_batch", "writer: _store_batch awaited in the loop")
if hasattr(writer, "_store_batch_sync"):
    around_async(writer, "_store_batch_sync", "writer: the sync thread's part awaited")
if hasattr(writer, "_store_sync"):  # the writer's thread, or on SQLite the loop (since the eighth pass)
    around_sync(writer, "_store_sync", "writer: the batch (its thread, or the loop)")
elif hasattr(writer, "_store_in_writer_thread"):  # the writer's own thread (since the fourth pass)
    around_sync(writer, "_store_in_writer_thread", "writer thread: the batch")
around_sync(services, "message_send_many", "sync thread: message_send_many")
if hasattr(messages, "_batch_facts"):
    around_sync(messages, "_batch_facts", "reads before the transaction")
around_sync(messages, "_store", "_store (transaction.atomic, commit at its end)")
around_sync(messages, "_publications", "_publications (members, frames)")
around_sync(messages, "events_publish_many", "events_publish_many")
around_sync(realtime, "_push", "on_commit _push (in the sync thread)")
around_async(realtime, "_group_send_all", "_group_send_all (in the loop)")

_ack = consumers.TandemConsumer.acknowledge


async def acknowledge(self, stored, client_id):
    result = await stored
    stamp("acknowledge: stored future resolved")
    done = __import__("asyncio").get_running_loop().create_future()
    done.set_result(result)
    await _ack(self, done, client_id)
    stamp("acknowledge: ack written")


consumers.TandemConsumer.acknowledge = acknowledge

_push = consumers.TandemConsumer.event_push


async def event_push(self, message):
    stamp(f"event_push user {self.user.pk} start")
    await _push(self, message)
    stamp(f"event_push user {self.user.pk} end")


consumers.TandemConsumer.event_push = event_push
