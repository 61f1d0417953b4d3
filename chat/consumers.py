"""The one WebSocket per client, `/ws/`: every event of the user, and the chat frames.

The socket joins its user's group before it accepts, so an event published right
after the handshake is not missed. Frames are JSON text, each with a `type`. A bad
frame gets an `error` frame and the socket stays open.
"""

import asyncio
import collections
import contextlib
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import orjson
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from common.errors import ServiceError
from realtime.groups import user_group
from realtime.layer_watch import LAYER_ERRORS, guard_receive, watch_layer
from realtime.selectors import replay_batch, replay_plan

from . import presence, services
from .origins import origin_allowed
from .serializers import MessageSerializer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
# The channel layer failed or came back from an outage: reconnect and resume. (1012, the
# standard "service restart", is not a code that daphne lets an application send.)
CLOSE_LAYER_RESTART = 4012
MAX_FRAME_CHARS = 16_000
# Sends accepted but not yet stored, per socket; past this the client is told to slow down.
MAX_QUEUED_SENDS = 100
# Most sends stored in one transaction by the writer.
MAX_BATCH = 200
# Seqs pushed live that a later replay skips (see TandemConsumer.connect).
PUSHED_LIVE_KEPT = 1024

logger = logging.getLogger(__name__)


class FrameError(ServiceError):
    """A frame the consumer cannot take: FrameError(code, detail), answered as an `error` frame."""


def field(frame: dict, name: str, kind: type):
    if name not in frame:
        raise FrameError("missing_field", f"`{name}` is required.")
    value = frame[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FrameError("invalid", f"`{name}` must be {'a number' if kind is int else 'a string'}.")
    return value


class TokenBucket:
    """Allows `rate` actions a second on average, bursts up to `rate`."""

    def __init__(self, rate: float):
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# Send buckets per user on this worker, shared by that user's sockets (held by them: a bucket
# goes when the user's last socket here closes). Opening more tabs does not raise the rate.
_send_buckets: "weakref.WeakValueDictionary[int, TokenBucket]" = weakref.WeakValueDictionary()


def _send_bucket_of(user_id: int) -> TokenBucket:
    bucket = _send_buckets.get(user_id)
    if bucket is None:
        bucket = _send_buckets[user_id] = TokenBucket(settings.CHAT_MESSAGES_PER_SECOND)
    return bucket


# One thread of its own: opens and closes of a user's sockets keep their order (counts, and the
# online/offline they announce), as they did in the shared thread.
_presence_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presence")


def _beside_the_writer(function):
    """Runs presence bookkeeping in a thread of its own, not in the one thread shared by
    `database_sync_to_async` calls: a thousand sockets closing at once (a network blip) would
    otherwise queue their cache round trips and contact lookups in front of every message
    waiting to be stored."""
    return database_sync_to_async(function, thread_sensitive=False, executor=_presence_thread)


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
    """Group commit: the sends waiting from every socket of this process, stored in one transaction.

    A transaction per message spends most of its time committing; while one batch is
    being stored, the next one gathers. Sends are taken in arrival order, so each
    socket's messages keep their order.
    """

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
    async def _store_alone(send: services.OutgoingMessage) -> tuple[dict | None, Exception | None]:
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


@database_sync_to_async
def _typing(user, conversation_id):
    services.typing_send(
        user=user, conversation=services.check_member_conversation(user=user, conversation_id=conversation_id)
    )


@database_sync_to_async
def _read(user, conversation_id, up_to):
    services.conversation_read(
        user=user,
        conversation=services.check_member_conversation(user=user, conversation_id=conversation_id),
        up_to=up_to,
    )


class TandemConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.credential = self.scope.get("credential")
        if self.user is None or not self.user.is_authenticated:
            # Accept first: closing before accept makes daphne answer HTTP 403 with no code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        cookie_authenticated = not (self.credential or "").startswith("token:")
        if cookie_authenticated and not origin_allowed(self.scope.get("headers", [])):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.send_bucket = _send_bucket_of(self.user.pk)
        self.typing_bucket = TokenBucket(settings.CHAT_TYPING_PER_SECOND)
        # Pushes at or below this seq were already sent by a replay; they are dropped, not doubled.
        self.replayed_through = 0
        # And the other way round: what went out live (say between connecting and `resume`)
        # is not replayed again. The most recent pushes are enough: older ones precede any resume.
        self.pushed_live: collections.OrderedDict[int, None] = collections.OrderedDict()
        # Sends go to the process's writer and the receive loop keeps reading: rate limits
        # apply when frames arrive, and pings are answered while messages are stored.
        self.pending_sends: set[asyncio.Task] = set()
        self.group = user_group(self.user.pk)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except LAYER_ERRORS:
            # Not accepted: the client retries with backoff, as after any failed handshake.
            logger.warning("Channel layer unreachable; socket of user %s refused", self.user.pk)
            self.group = None
            await self.close()
            return
        await self.accept()
        watch_layer(self.channel_layer, self)
        await _beside_the_writer(presence.socket_opened)(self.user)
        presence.heartbeat_start()

    async def dispatch(self, message):
        # Channels' dispatch first closes stale database connections through the one shared
        # sync thread, so every frame and every push would wait behind whatever ORM call runs
        # there (measured: frames handled at the pace of message writes). Our handlers reach
        # the ORM only through database_sync_to_async, which does that clean-up itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code):
        if getattr(self, "group", None):
            with contextlib.suppress(*LAYER_ERRORS):  # a lost layer has forgotten the group anyway
                await self.channel_layer.group_discard(self.group, self.channel_name)
            # A send still waiting is stored but not acknowledged; the client sends it again
            # with the same client_id and gets the stored message back.
            for task in self.pending_sends:
                task.cancel()
            await _beside_the_writer(presence.socket_closed)(self.user)

    async def receive(self, text_data=None, bytes_data=None):
        client_id = None
        try:
            frame = self.decode(text_data)
            client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            frame_type = frame.get("type")
            handler = self.handlers.get(frame_type) if isinstance(frame_type, str) else None
            if handler is None:
                raise FrameError("unknown_type", "Unknown frame type.")
            await handler(self, frame)
        except ServiceError as error:
            body = {"type": "error", "code": error.code, "detail": error.detail}
            if client_id is not None:
                body["client_id"] = client_id
            await self.send_frame(body)

    @staticmethod
    def decode(text_data: str | None) -> dict:
        if text_data is None:
            raise FrameError("bad_frame", "Frames must be JSON text.")
        if len(text_data) > MAX_FRAME_CHARS:
            raise FrameError("too_long", f"Frames are limited to {MAX_FRAME_CHARS} characters.")
        try:
            frame = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            raise FrameError("bad_json", "Frames must be valid JSON.") from None
        if not isinstance(frame, dict):
            raise FrameError("bad_frame", "A frame is a JSON object with a `type`.")
        return frame

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            # The client closed while this frame was on its way (daphne has not processed the
            # close yet). Nobody is left to read it, and anything that mattered is stored for
            # `resume`; it is not the server's error to log.
            logger.debug("Frame for a socket that just closed dropped")

    async def send_frame(self, body: dict) -> None:
        await self.send(text_data=orjson.dumps(body).decode())

    async def handle_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    async def handle_message_send(self, frame: dict) -> None:
        conversation_id = field(frame, "conversation", int)
        client_id = field(frame, "client_id", str)
        if not self.send_bucket.take() or len(self.pending_sends) >= MAX_QUEUED_SENDS:
            raise FrameError("rate_limited", "Too many messages; slow down.")
        send = services.OutgoingMessage(
            sender=self.user,
            conversation_id=conversation_id,
            body=frame.get("body"),
            client_id=client_id,
            reply_to=frame.get("reply_to"),
            shared_post=frame.get("shared_post"),
        )
        task = asyncio.create_task(self.acknowledge(message_writer().submit(send), client_id))
        self.pending_sends.add(task)
        task.add_done_callback(self.pending_sends.discard)

    async def acknowledge(self, stored: asyncio.Future, client_id: str) -> None:
        message, error = await stored
        if message is not None:
            answer = {"type": "message.ack", "client_id": client_id, "message": message}
        elif isinstance(error, ServiceError):
            answer = {"type": "error", "code": error.code, "detail": error.detail, "client_id": client_id}
        else:
            detail = "The message could not be stored; send it again."
            answer = {"type": "error", "code": "server_error", "detail": detail, "client_id": client_id}
        try:
            await self.send_frame(answer)
        except Exception:  # the socket closed while the message was stored (daphne raises its own error)
            logger.info("Socket closed before the answer to %s could be sent", client_id)

    async def handle_typing(self, frame: dict) -> None:
        conversation_id = field(frame, "conversation", int)
        if self.typing_bucket.take():
            await _typing(self.user, conversation_id)

    async def handle_read(self, frame: dict) -> None:
        conversation_id = field(frame, "conversation", int)
        up_to = field(frame, "up_to", int)
        await _read(self.user, conversation_id, up_to)

    async def handle_resume(self, frame: dict) -> None:
        after = field(frame, "after", int)
        if after < 0:
            raise FrameError("invalid", "`after` must be 0 or more.")
        plan = await database_sync_to_async(replay_plan)(user_id=self.user.pk, after=after)
        if plan.resync:
            self.replayed_through = max(self.replayed_through, plan.last)
            await self.send_frame({"type": "resync", "last": plan.last})
            return
        while after < plan.last:
            frames = await database_sync_to_async(replay_batch)(viewer=self.user, after=after, up_to=plan.last)
            if not frames:
                break
            for body in frames:
                if body["seq"] not in self.pushed_live:
                    await self.send_frame(body)
            after = frames[-1]["seq"]
        self.replayed_through = max(self.replayed_through, plan.last)
        await self.send_frame({"type": "resume.done", "last": plan.last})

    handlers = {
        "ping": handle_ping,
        "message.send": handle_message_send,
        "typing": handle_typing,
        "read": handle_read,
        "resume": handle_resume,
    }

    # Channel-layer messages, addressed by `type`.

    async def event_push(self, message: dict) -> None:
        if self.closed_for_layer:
            return
        seq = message.get("seq")
        if seq is not None:
            if seq <= self.replayed_through:
                return
            self.pushed_live[seq] = None
            if len(self.pushed_live) > PUSHED_LIVE_KEPT:
                self.pushed_live.popitem(last=False)
        await self.send(text_data=message["text"])

    async def auth_revoked(self, message: dict) -> None:
        # One credential ended (a logout), or every one but those kept (a password change).
        if "keep" in message:
            ended = self.credential not in message["keep"]
        else:
            ended = message["credential"] == self.credential
        if ended:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def user_deactivated(self, message: dict) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # Channel-layer outages (realtime.layer_watch): pushes sent meanwhile were lost, but the
    # events are stored, so the socket closes and its client reconnects and resumes.

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive):
        # Channels' consumer sets this to the layer's receive and awaits it for the socket's
        # lifetime; a Redis error there would otherwise end the consumer with a traceback.
        self._channel_receive = guard_receive(receive, self.close_for_layer)

    closed_for_layer = False

    async def close_for_layer(self) -> None:
        self.closed_for_layer = True  # pushes still queued for this socket would hit a closed protocol
        await self.close(code=CLOSE_LAYER_RESTART)
