"""The one WebSocket per client, `/ws/`: every event of the user, and the chat frames.

The socket joins its user's group before it accepts, so an event published right
after the handshake is not missed. Frames are JSON text, each with a `type`. A bad
frame gets an `error` frame and the socket stays open; every refusal a handler or a
service raises (a `ServiceError`) becomes that frame in one place, `error_frame`.

What the worker holds for a client is bounded: a `resume` replays from the store a page
at a time and waits for the socket to drain between frames (one resume at a time per
socket, CHAT_RESUMES_PER_MINUTE per user), and a client that lets more than
CHAT_UNREAD_BYTES pile up unread is closed (CLOSE_NOT_READING) rather than buffered for.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

import orjson
from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from accounts import limits
from accounts.services import action_atake, action_take
from common.counters import counted_at_once
from common.errors import RateLimited, ServiceError
from common.hops import database_hop, in_connect_thread
from common.store_epoch import watch_epoch
from realtime import presence
from realtime.backpressure import WriteBuffer
from realtime.groups import broadcast_group, user_group
from realtime.layer_watch import LAYER_ERRORS, guard_receive, watch_layer
from realtime.selectors import replay_batch, replay_start

from . import calls, services
from .channel_data import subscribed_channel_ids
from .origins import origin_allowed
from .writer import message_writer

CLOSE_UNAUTHENTICATED = 4401
"""No user, a bad token, or the credential was revoked (logout, deactivation): do not retry."""
CLOSE_FORBIDDEN_ORIGIN = 4403
"""A cookie-authenticated socket from a page of another origin."""
CLOSE_LAYER_RESTART = 4012
"""The channel layer failed or came back from an outage, or the store's epoch changed
(common.store_epoch): reconnect and resume. (1012, the standard "service restart", is not a code
that daphne lets an application send.)"""
CLOSE_NOT_READING = 4008
"""The client let more than CHAT_UNREAD_BYTES of frames wait unread in the worker (the
standard 1008, policy violation, in the application's range). Nothing is lost: reconnect and
resume. The close frame comes after what was already buffered, and the connection is cut
NOT_READING_GRACE seconds later if the client has not read that far."""
CLOSE_TOO_MANY_SOCKETS = 4429
"""The user already holds MAX_SOCKETS_PER_USER open sockets (on any worker), like HTTP 429.
Sent after accept: a close before accept would reach the client as HTTP 403 with no code."""

MAX_FRAME_CHARS = 16_000
# The store's epochs are 16 characters (common.store_epoch); room for another format later.
MAX_EPOCH_CHARS = 64
# A call's offer or answer carries an SDP of up to calls.MAX_SDP: those two frames may be longer.
MAX_CALL_FRAME_CHARS = 24_000
CALL_SDP_FRAMES = frozenset({"call.invite", "call.answer"})
# Sends accepted but not yet stored, per socket; past this the client is told to slow down.
MAX_QUEUED_SENDS = 100
# Seqs pushed live that a later replay skips (see TandemConsumer.connect).
PUSHED_LIVE_KEPT = 1024
# Events read from the store and rendered per replay page: what one resume holds in memory.
REPLAY_PAGE = 100
# A replay sends its next frame only once at most this much waits to be written to the client.
REPLAY_BUFFERED_BYTES = 64 * 1024
# Seconds a client closed for not reading has to read up to the close frame before it is cut off.
NOT_READING_GRACE = 10

logger = logging.getLogger(__name__)


class FrameError(ServiceError):
    """A frame the consumer cannot take: FrameError(code, detail), answered as an `error` frame."""


def error_frame(error: ServiceError, client_id: str | None = None) -> dict:
    """The one mapping of a refusal to the socket: an `error` frame (with `retry_after` when rate limited)."""
    body = {"type": "error", "code": error.code, "detail": error.detail}
    if isinstance(error, RateLimited):
        body["retry_after"] = error.retry_after
    if client_id is not None:
        body["client_id"] = client_id
    return body


def field(frame: dict, name: str, kind: type):
    if name not in frame:
        raise FrameError("missing_field", f"`{name}` is required.")
    value = frame[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FrameError("invalid", f"`{name}` must be {'a number' if kind is int else 'a string'}.")
    return value


def _beside_the_writer(function):
    """Runs presence bookkeeping in the connect thread (common.hops), not in the one thread shared
    by `database_sync_to_async` calls: a thousand sockets closing at once (a network blip) would
    otherwise queue their cache round trips and contact lookups in front of every message
    waiting to be stored."""
    return in_connect_thread(function)


# The message counts on their way (the loop keeps only a weak reference to a task).
_counting: set[asyncio.Task] = set()
# How long the writer waits for a count still on its way before refusing the send: far more than a
# Redis round trip, short enough that a Redis server gone silent does not hold every send for long.
BUDGET_WAIT_SECONDS = 5


def _message_budget(user) -> Callable[[], None] | None:
    """Takes one from the user's message budget, the same count REST takes from, counted from the
    loop: in the process's own memory, or one Redis round trip, never a hop into a thread and back
    (bench/RESULTS.md, "Chat: round trips, the pub/sub lock and the checkpoints"). The count is
    started, not awaited: its round trip goes on while the writer takes the send into its thread
    and reads what the send needs. Returns the send's `admit`, which the writer calls before the
    transaction: it raises RateLimited past the budget, or a ServiceError if the count failed.
    Counted in this process's memory, the count is taken at once (RateLimited raised here)."""
    if counted_at_once():
        action_take(action="message", user=user)
        return None
    verdict: concurrent.futures.Future = concurrent.futures.Future()

    def settle(task: asyncio.Task) -> None:
        _counting.discard(task)
        error = ServiceError("unavailable", "The message could not be counted; send it again.", 503)
        if task.cancelled():
            verdict.set_exception(error)
        elif isinstance(task.exception(), ServiceError):
            verdict.set_exception(task.exception())
        elif task.exception() is not None:
            logger.error("Counting a message failed", exc_info=task.exception())
            verdict.set_exception(error)
        else:
            verdict.set_result(None)

    def count() -> None:
        task = loop.create_task(action_atake(action="message", user=user))
        _counting.add(task)
        task.add_done_callback(settle)

    # Started a turn of the loop later: the writer, woken by the send's submit meanwhile, then hands
    # the batch to its thread first, and the count's command (about 0.5 ms of the loop's time at
    # idle) is written to Redis while the thread reads what the send needs. Started at once, the
    # count held the batch back that long (bench/RESULTS.md, "Chat: two round trips on PostgreSQL,
    # six pages fewer a send").
    loop = asyncio.get_running_loop()
    loop.call_soon(count)

    def admit() -> None:
        try:
            verdict.result(timeout=BUDGET_WAIT_SECONDS)
        except concurrent.futures.TimeoutError:
            raise ServiceError("unavailable", "The message could not be counted; send it again.", 503) from None

    return admit


# Every socket resumes once it reconnects (all of them after a restart).
async def _resume_take(user) -> None:
    window = timedelta(minutes=1)
    wait = await limits.atake("resume", str(user.pk), limit=settings.CHAT_RESUMES_PER_MINUTE, window=window)
    if wait is not None:
        raise RateLimited(retry_after=wait, detail="Too many resumes. Try again later.")


@_beside_the_writer
def _socket_opening(user) -> tuple[bool, set[int] | None, list[int]]:
    """presence.socket_opening, and for a socket let in, the channels whose broadcasts it joins:
    one hop into a thread per connect, not two (a reconnect storm makes thousands at once)."""
    channel_ids = subscribed_channel_ids(user)  # read first: a failure then leaves nothing counted
    opened, audience = presence.socket_opening(user, most=settings.MAX_SOCKETS_PER_USER)
    return opened, audience, channel_ids


# These wrappers are made once, at import: wrapping a function anew on every connect or resume
# cost an `inspect` of it each time.
@_beside_the_writer
def _socket_closing(user) -> set[int] | None:
    return presence.socket_closing(user)


_replay_start = database_hop(replay_start)
_replay_batch = database_hop(replay_batch)


@database_sync_to_async
def _typing(user, conversation_id):
    # Per user and conversation, in the cache: more sockets (or workers) do not make more typing.
    if limits.take(
        "typing", f"{user.pk}:{conversation_id}", limit=settings.CHAT_TYPING_PER_SECOND, window=timedelta(seconds=1)
    ):
        return  # a hint, not a request: past the rate it is dropped, not refused
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
    # Set once the socket counts towards its user's presence (and their socket cap).
    counted = False
    # Set once the client let too much pile up unread: nothing more is written to it.
    not_reading = False
    closed_for_layer = False

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
        self.write_buffer = WriteBuffer(self.base_send)
        # Pushes at or below this seq were already sent by a replay; they are dropped, not doubled.
        self.replayed_through = 0
        # And the other way round: what went out live (say between connecting and `resume`)
        # is not replayed again. The most recent pushes are enough: older ones precede any resume.
        self.pushed_live: collections.OrderedDict[int, None] = collections.OrderedDict()
        # The running replay, if any, and the highest seq pushed while it runs: the replay sends
        # those from the store too, so frames keep their order and nothing waits in memory.
        self.replay: asyncio.Task | None = None
        self.replay_wanted = 0
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
        opened, audience, channel_ids = await _socket_opening(self.user)
        if not opened:
            with contextlib.suppress(*LAYER_ERRORS):
                await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.counted = True
        # The broadcast groups of the user's channels, joined before accept like the user's own group;
        # each broadcast is then one group_send to the sockets open now (chat.services.channels).
        self.broadcast_groups: set[str] = set()
        if channel_ids:  # most users follow no channel: no call at all then
            await self.broadcast_groups_change({"join": [broadcast_group(cid) for cid in channel_ids], "leave": []})
        # The calls this socket is in: call_id -> the channel of the other side's socket (None
        # while it rings). ICE candidates go there, and the calls end if this socket closes.
        self.calls: dict[str, str | None] = {}
        await self.accept()
        watch_layer(self.channel_layer, self)
        watch_epoch(self)
        presence.heartbeat_start()
        await calls.sweeper_start()
        await presence.announce(self.user, audience, online=True)

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
                for group in getattr(self, "broadcast_groups", ()):
                    await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "replay", None) is not None:
            self.replay.cancel()
        # A send still waiting is stored but not acknowledged; the client sends it again
        # with the same client_id and gets the stored message back.
        for task in getattr(self, "pending_sends", ()):
            task.cancel()
        # A caller (or an answering callee) who goes away ends the call for both.
        for call_id in list(getattr(self, "calls", ())):
            try:
                await database_sync_to_async(calls.call_end)(call_id, "hangup")
            except Exception:
                logger.exception("Ending call %s of a closed socket failed", call_id)
        if self.counted:
            self.counted = False
            audience = await _socket_closing(self.user)
            await presence.announce(self.user, audience, online=False)

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
            await self.send_frame(error_frame(error, client_id))

    @staticmethod
    def decode(text_data: str | None) -> dict:
        if text_data is None:
            raise FrameError("bad_frame", "Frames must be JSON text.")
        too_long = FrameError("too_long", f"Frames are limited to {MAX_FRAME_CHARS} characters.")
        # Past MAX_FRAME_CHARS only a call's offer or answer is read; anything else is too long.
        long = len(text_data) > MAX_FRAME_CHARS
        if len(text_data) > MAX_CALL_FRAME_CHARS:
            raise too_long
        try:
            frame = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            raise too_long if long else FrameError("bad_json", "Frames must be valid JSON.") from None
        if long and (not isinstance(frame, dict) or frame.get("type") not in CALL_SDP_FRAMES):
            raise too_long
        if not isinstance(frame, dict):
            raise FrameError("bad_frame", "A frame is a JSON object with a `type`.")
        return frame

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        if self.not_reading:
            return
        size = len(text_data) if text_data is not None else len(bytes_data or b"")
        if self.write_buffer.pending() + size > settings.CHAT_UNREAD_BYTES:
            await self.close_not_reading()
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            # The client closed while this frame was on its way (daphne has not processed the
            # close yet). Nobody is left to read it, and anything that mattered is stored for
            # `resume`; it is not the server's error to log.
            logger.debug("Frame for a socket that just closed dropped")

    async def close_not_reading(self) -> None:
        self.not_reading = True
        if self.replay is not None and self.replay is not asyncio.current_task():
            self.replay.cancel()
        logger.info(
            "Socket of user %s closed (%d): %d bytes waited unread",
            self.user.pk,
            CLOSE_NOT_READING,
            self.write_buffer.pending(),
        )
        self.write_buffer.close_within(NOT_READING_GRACE)
        await self.close(code=CLOSE_NOT_READING)

    async def send_frame(self, body: dict) -> None:
        await self.send(text_data=orjson.dumps(body).decode())

    async def handle_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    async def handle_message_send(self, frame: dict) -> None:
        conversation_id = field(frame, "conversation", int)
        client_id = field(frame, "client_id", str)
        if len(self.pending_sends) >= MAX_QUEUED_SENDS:
            raise RateLimited(retry_after=1, detail="Too many messages waiting to be stored; slow down.")
        send = services.OutgoingMessage(
            admit=_message_budget(self.user),
            sender=self.user,
            conversation_id=conversation_id,
            body=frame.get("body"),
            client_id=client_id,
            reply_to=frame.get("reply_to"),
            shared_post=frame.get("shared_post"),
            media=frame.get("media"),
            shared_article=frame.get("shared_article"),
        )
        task = asyncio.create_task(self.acknowledge(message_writer().submit(send), client_id))
        self.pending_sends.add(task)
        task.add_done_callback(self.pending_sends.discard)

    async def acknowledge(self, stored: asyncio.Future, client_id: str) -> None:
        message, error = await stored
        if message is not None:
            answer = {"type": "message.ack", "client_id": client_id, "message": message}
        elif isinstance(error, ServiceError):
            answer = error_frame(error, client_id)
        else:
            unexpected = ServiceError("server_error", "The message could not be stored; send it again.", 500)
            answer = error_frame(unexpected, client_id)
        try:
            await self.send_frame(answer)
        except Exception:  # the socket closed while the message was stored (daphne raises its own error)
            logger.info("Socket closed before the answer to %s could be sent", client_id)

    async def handle_typing(self, frame: dict) -> None:
        await _typing(self.user, field(frame, "conversation", int))

    async def handle_read(self, frame: dict) -> None:
        conversation_id = field(frame, "conversation", int)
        up_to = field(frame, "up_to", int)
        await _read(self.user, conversation_id, up_to)

    async def handle_resume(self, frame: dict) -> None:
        after = field(frame, "after", int)
        if after < 0:
            raise FrameError("invalid", "`after` must be 0 or more.")
        # Optional: a client that never had one (an older one) resumes by its seq alone.
        epoch = field(frame, "epoch", str) if frame.get("epoch") is not None else None
        if epoch is not None and len(epoch) > MAX_EPOCH_CHARS:
            raise FrameError("too_long", f"`epoch` must be at most {MAX_EPOCH_CHARS} characters.")
        if self.replay is not None:
            raise FrameError("resume_in_progress", "A resume is still running; wait for its resume.done.")
        await _resume_take(self.user)
        self.replay_wanted = 0
        # A task of its own: while it waits for the client to read, the socket's other frames
        # (pings, sends) and its pushes are still handled.
        self.replay = asyncio.create_task(self.replay_after(after, epoch))

    async def replay_after(self, after: int, epoch: str | None = None) -> None:
        """Sends what came after `after` from the store, then `resume.done` (or `resync`), each with
        the store's epoch. A client whose `epoch` is another is told to resync (common.store_epoch).

        Pushes that arrive meanwhile are not sent live but make the replay go on to them, so
        the client gets every seq once and in order; `replayed_through` grows frame by frame,
        before each is sent, so a push for a seq already replayed is dropped.
        """
        try:
            plan, first_page = await _replay_start(viewer=self.user, after=after, epoch=epoch, limit=REPLAY_PAGE)
            if plan.resync:
                self.replayed_through = max(self.replayed_through, plan.last)
                await self.send_frame({"type": "resync", "last": plan.last, "epoch": plan.epoch})
                return
            up_to = plan.last
            # Not a plain assignment: a push that came while the plan was read (its seq past the
            # plan's) already raised replay_wanted, and it is sent from the store or not at all.
            self.replay_wanted = max(self.replay_wanted, up_to)
            frames = first_page or None  # read with the plan (None: nothing to replay, or read it again)
            while True:
                if after >= up_to:
                    if self.replay_wanted <= up_to:
                        break
                    up_to = self.replay_wanted  # pushed while replaying: sent from the store, in order
                if frames is None:
                    frames = await _replay_batch(viewer=self.user, after=after, up_to=up_to, limit=REPLAY_PAGE)
                if not frames:
                    break
                for body in frames:
                    seq = body["seq"]
                    self.replayed_through = max(self.replayed_through, seq)
                    if seq in self.pushed_live:
                        continue
                    await self.write_buffer.drained(below=REPLAY_BUFFERED_BYTES)
                    await self.send_frame(body)
                    if self.not_reading:
                        return
                after = frames[-1]["seq"]
                frames = None
            self.replayed_through = max(self.replayed_through, up_to)
            self.replay = None  # from here on pushes go out live again (no await since the last check)
            await self.send_frame({"type": "resume.done", "last": up_to, "epoch": plan.epoch})
        except ServiceError as error:
            await self.send_frame(error_frame(error))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Replay for user %s failed", self.user.pk)
            await self.send_frame(error_frame(ServiceError("server_error", "The replay failed; resume again.", 500)))
        finally:
            self.replay = None

    # Calls (chat.calls): signalling relayed between the two sockets in a call, never stored.

    async def handle_call_config(self, frame: dict) -> None:
        servers = await database_sync_to_async(calls.ice_servers_for)(self.user)
        await self.send_frame({"type": "call.config", "ice_servers": servers})

    async def handle_call_invite(self, frame: dict) -> None:
        invited = await database_sync_to_async(calls.call_invite)(
            user=self.user,
            channel=self.channel_name,
            # `conversation`, as in every other frame (`conversation_id` is taken too).
            conversation_id=field(frame, "conversation" if "conversation" in frame else "conversation_id", int),
            call_id=field(frame, "call_id", str),
            media=field(frame, "media", str),
            sdp=field(frame, "sdp", str),
        )
        if not invited.busy:
            self.calls[str(invited.call.pk)] = None
            calls.ring_timer(str(invited.call.pk))

    async def handle_call_answer(self, frame: dict) -> None:
        call = await database_sync_to_async(calls.call_answer)(
            user=self.user,
            channel=self.channel_name,
            call_id=field(frame, "call_id", str),
            sdp=field(frame, "sdp", str),
        )
        self.calls[str(call.pk)] = call.caller_channel

    async def handle_call_ice(self, frame: dict) -> None:
        call_id = field(frame, "call_id", str)
        candidate = calls.check_candidate(frame.get("candidate"))
        if call_id not in self.calls:
            raise calls.no_such_call()
        peer = self.calls[call_id]
        if peer is None:
            raise calls.CallError("call_state", "The call is not answered yet; send candidates once it is.", 409)
        await sync_to_async(calls.ice_take, thread_sensitive=False)(self.user, call_id)
        relayed = {"type": "call.ice", "call_id": call_id, "candidate": candidate}
        await self.channel_layer.send(peer, {"type": calls.SIGNAL, "text": orjson.dumps(relayed).decode()})

    async def handle_call_decline(self, frame: dict) -> None:
        await database_sync_to_async(calls.call_decline)(user=self.user, call_id=field(frame, "call_id", str))

    async def handle_call_hangup(self, frame: dict) -> None:
        call_id = field(frame, "call_id", str)
        await database_sync_to_async(calls.call_hangup)(
            user=self.user, channel=self.channel_name, call_id=call_id, failed=frame.get("reason") == "failed"
        )
        self.calls.pop(call_id, None)

    handlers = {
        "ping": handle_ping,
        "message.send": handle_message_send,
        "typing": handle_typing,
        "read": handle_read,
        "resume": handle_resume,
        "call.config": handle_call_config,
        "call.invite": handle_call_invite,
        "call.answer": handle_call_answer,
        "call.ice": handle_call_ice,
        "call.decline": handle_call_decline,
        "call.hangup": handle_call_hangup,
    }

    # Channel-layer messages, addressed by `type`.

    async def event_push(self, message: dict) -> None:
        if self.closed_for_layer:
            return
        seq = message.get("seq")
        if seq is not None:
            if seq <= self.replayed_through:
                return
            if self.replay is not None:
                self.replay_wanted = max(self.replay_wanted, seq)
                return
            self.pushed_live[seq] = None
            if len(self.pushed_live) > PUSHED_LIVE_KEPT:
                self.pushed_live.popitem(last=False)
        await self.send(text_data=message["text"])

    async def broadcast_groups_change(self, message: dict) -> None:
        """Join or leave channels' broadcast groups: on connect, and when the user (un)subscribes
        anywhere (realtime.services.subscriptions_changed)."""
        with contextlib.suppress(*LAYER_ERRORS):
            for group in message["join"]:
                await self.channel_layer.group_add(group, self.channel_name)
                self.broadcast_groups.add(group)
            for group in message["leave"]:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.broadcast_groups.discard(group)

    async def call_signal(self, message: dict) -> None:
        """A signalling frame of a call (chat.calls), for this socket or every socket of its user."""
        if message.get("skip") == self.channel_name or self.closed_for_layer:
            return
        if "peer" in message:
            self.calls[message["call_id"]] = message["peer"]
        if "ended" in message:
            self.calls.pop(message["ended"], None)
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

    async def close_for_layer(self) -> None:
        self.closed_for_layer = True  # pushes still queued for this socket would hit a closed protocol
        await self.close(code=CLOSE_LAYER_RESTART)

    async def close_for_epoch(self) -> None:
        """The store's epoch changed: the client reconnects and resumes with its old one, and resyncs."""
        await self.close_for_layer()
