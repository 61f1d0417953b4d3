"""One-to-one voice and video calls: who may call whom, the call's state, and its record.

The browsers carry the media peer to peer (WebRTC); Tandem relays the signalling over `/ws/`
(chat.consumers) and keeps the state of each call in a `Call` row, so that every worker agrees:

- `call.invite` rings every socket of the callee (their user group, on every worker);
- `call.answer` takes the call with a conditional UPDATE (ringing -> active): of two tabs
  answering at once one wins, and the others are told `answered_elsewhere`;
- from then on the answer and the ICE candidates go from one socket's channel to the other's,
  and to nobody else;
- every way a call ends (`call_end`) is one conditional change of state, which stores the call's
  record, a message of kind `call` in the conversation with its seq (so someone who was offline
  sees the missed call, in the chat and in the unread badge), and tells both sides `call.ended`.

A call rings CALL_RING_SECONDS at most: the caller's worker ends it as missed then, and every
worker's sweep (`sweep`, each CALL_SWEEP_SECONDS) ends the ringing calls past their deadline
and any call whose caller's (or, once answered, callee's) worker stopped beating: a worker
killed mid-call leaves no call ringing forever; it ends as failed.

Signalling frames are ephemeral (never stored, never replayed); only the record is.
"""

import asyncio
import base64
import hashlib
import hmac
import logging
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import timedelta

import orjson
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import limits
from accounts.models import User
from accounts.serializers import user_summary
from common.errors import NotFound, RateLimited, ServiceError
from realtime.groups import user_group
from realtime.layer_watch import LAYER_ERRORS
from realtime.services import events_publish

from .models import Call, Conversation, Membership, Message
from .serializers import message_data
from .services.reach import refused_direct_pairs

# The offer or answer of a call: a browser's SDP is a few KB; a frame carrying one may be
# longer than other frames (chat.consumers.MAX_CALL_FRAME_CHARS).
MAX_SDP = 20_000
# One ICE candidate, as JSON ({candidate, sdpMid, sdpMLineIndex, usernameFragment}).
MAX_CANDIDATE = 1_000
# The layer message type of every signalling frame (TandemConsumer.call_signal).
SIGNAL = "call.signal"

# This process, as the calls it holds remember it: its heartbeat key says it is alive.
WORKER_ID = uuid.uuid4().hex

logger = logging.getLogger(__name__)


class CallError(ServiceError):
    pass


def not_allowed() -> CallError:
    # One answer for a stranger, a group, a removed contact and a block: nobody learns which.
    return CallError("not_allowed", "You can only call your contacts, in your direct chat with them.", 403)


def no_such_call() -> NotFound:
    # A call the sender is not in is answered like one that does not exist.
    return NotFound(detail="No such call.")


def check_sdp(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CallError("invalid", "`sdp` must be a session description (a string).")
    if len(value) > MAX_SDP:
        raise CallError("too_long", f"`sdp` is limited to {MAX_SDP} characters.")
    return value


def check_candidate(value) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("candidate"), str):
        raise CallError("invalid", "`candidate` must be an ICE candidate object with a `candidate` string.")
    if len(orjson.dumps(value)) > MAX_CANDIDATE:
        raise CallError("too_long", f"`candidate` is limited to {MAX_CANDIDATE} bytes.")
    return value


def check_call_id(value) -> uuid.UUID:
    if not isinstance(value, str):
        raise CallError("invalid", "`call_id` must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CallError("invalid", "`call_id` must be a UUID string.") from None


def check_media(value) -> str:
    # "audio" is the WebRTC word for it; both name a voice call.
    media = {"voice": Call.Media.VOICE, "audio": Call.Media.VOICE, "video": Call.Media.VIDEO}.get(value)
    if media is None:
        raise CallError("invalid", "`media` must be voice or video.")
    return media


# ICE servers ---------------------------------------------------------------------------------


def turn_credentials(username: str, *, secret: str, now: float | None = None, ttl: int) -> dict:
    """TURN REST API credentials (coturn's `use-auth-secret`): username "expiry:name", credential
    base64(HMAC-SHA1(secret, username)); the TURN server checks both without asking Tandem."""
    expiry = int(now if now is not None else time.time()) + ttl
    name = f"{expiry}:{username}"
    digest = hmac.new(secret.encode(), name.encode(), hashlib.sha1).digest()
    return {"username": name, "credential": base64.b64encode(digest).decode()}


def ice_servers_for(user: User) -> list[dict]:
    """ICE_SERVERS, plus TURN_URLS with credentials minted now for `user` when TURN_SECRET is set."""
    servers = list(settings.ICE_SERVERS)
    if settings.TURN_SECRET and settings.TURN_URLS:
        credentials = turn_credentials(user.username, secret=settings.TURN_SECRET, ttl=settings.TURN_CREDENTIAL_SECONDS)
        servers.append({"urls": list(settings.TURN_URLS), **credentials})
    return servers


# Signalling through the channel layer --------------------------------------------------------


def _signal(frame: dict, **routing) -> dict:
    """A layer message carrying `frame` to a socket; `routing` tells the consumer what to remember
    (`peer`: the channel of the other side; `ended`: forget the call; `skip`: a channel not to
    send it to)."""
    return {"type": SIGNAL, "text": orjson.dumps(frame).decode(), **routing}


@dataclass
class Delivery:
    """Layer messages to send once the transaction commits: (channel or None, group or None, message)."""

    sends: list[tuple[str | None, str | None, dict]]

    def go(self) -> None:
        try:
            async_to_sync(_deliver)(self.sends)
        except LAYER_ERRORS as error:
            logger.warning("Call signalling not delivered (%s)", error)


async def _deliver(sends) -> None:
    layer = get_channel_layer()
    for channel, group, message in sends:
        if channel:
            await layer.send(channel, message)
        else:
            await layer.group_send(group, message)


def _after_commit(sends) -> None:
    transaction.on_commit(Delivery(sends).go)


# Who may call whom ---------------------------------------------------------------------------


def _other_member(user: User, conversation_id) -> int:
    """The other person of `user`'s direct conversation, if the two may talk now; else not_allowed."""
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise CallError("invalid", "`conversation` must be a number.")
    membership = (
        Membership.objects.filter(user=user, conversation_id=conversation_id).select_related("conversation").first()
    )
    if membership is None or membership.conversation.kind != Conversation.Kind.DIRECT:
        raise not_allowed()
    low, high = map(int, membership.conversation.direct_key.split(":"))
    other = high if low == user.pk else low
    if refused_direct_pairs({(user.pk, other)}):
        raise not_allowed()
    return other


def _calls_in_progress(user_id: int):
    """The calls `user_id` rings for, is ringing, or talks in."""
    return Call.objects.filter(Q(caller_id=user_id) | Q(callee_id=user_id)).exclude(state=Call.State.ENDED)


# The calls ------------------------------------------------------------------------------------


@dataclass
class Invited:
    call: Call
    busy: bool


@transaction.atomic
def call_invite(*, user: User, channel: str, conversation_id, call_id, media, sdp) -> Invited:
    """Rings the callee's every socket, or, if they are in a call already, ends this one as busy."""
    call_uuid = check_call_id(call_id)
    media = check_media(media)
    sdp = check_sdp(sdp)
    callee_id = _other_member(user, conversation_id)
    # The two people's rows, locked in one order: two invites between them (or to one callee)
    # are decided one after the other, so a callee never rings for two calls at once.
    list(User.objects.select_for_update().filter(pk__in=[user.pk, callee_id]).order_by("pk").values_list("pk"))
    if Call.objects.filter(pk=call_uuid).exists():
        raise CallError("invalid", "That call_id was used already.")
    if _calls_in_progress(user.pk).exists():
        raise CallError("in_call", "You are in a call already; hang up first.", 409)
    now = timezone.now()
    call = Call.objects.create(
        id=call_uuid,
        conversation_id=conversation_id,
        caller=user,
        callee_id=callee_id,
        media=media,
        caller_channel=channel,
        caller_worker=WORKER_ID,
        ring_deadline=now + timedelta(seconds=settings.CALL_RING_SECONDS),
    )
    if _calls_in_progress(callee_id).exclude(pk=call.pk).exists():
        _finish(call, "busy", now=now)
        return Invited(call, busy=True)
    incoming = {
        "type": "call.incoming",
        "call_id": str(call.pk),
        "conversation": call.conversation_id,
        "from": user_summary(user),
        "media": media,
        "sdp": sdp,
        "ice_servers": ice_servers_for(call.callee),
    }
    _after_commit([(None, user_group(callee_id), _signal(incoming))])
    return Invited(call, busy=False)


def call_answer(*, user: User, channel: str, call_id, sdp) -> Call:
    """The first socket of the callee to answer takes the call; the others stop ringing."""
    call_uuid = check_call_id(call_id)
    sdp = check_sdp(sdp)
    with transaction.atomic():
        taken = Call.objects.filter(pk=call_uuid, callee=user, state=Call.State.RINGING).update(
            state=Call.State.ACTIVE,
            callee_channel=channel,
            callee_worker=WORKER_ID,
            answered_at=timezone.now(),
        )
        if not taken:
            _refuse(user, call_uuid)
        call = Call.objects.get(pk=call_uuid)
        answered = {"type": "call.answered", "call_id": str(call.pk), "sdp": sdp}
        elsewhere = {"type": "call.ended", "call_id": str(call.pk), "reason": "answered_elsewhere"}
        _after_commit(
            [
                (call.caller_channel, None, _signal(answered, peer=channel, call_id=str(call.pk))),
                (None, user_group(user.pk), _signal(elsewhere, skip=channel)),
            ]
        )
    return call


def _refuse(user: User, call_uuid) -> None:
    """Why a frame for a call cannot be taken: not the sender's call (not_found), or no longer in that state."""
    call = Call.objects.filter(pk=call_uuid).only("caller_id", "callee_id", "state").first()
    if call is None or user.pk not in (call.caller_id, call.callee_id):
        raise no_such_call()
    raise CallError("call_state", f"The call is {call.state}.", 409)


def call_decline(*, user: User, call_id) -> Call:
    call_uuid = check_call_id(call_id)
    ended = call_end(call_uuid, "declined", only_state=Call.State.RINGING, callee=user)
    if ended is None:
        _refuse(user, call_uuid)
    return ended


def call_hangup(*, user: User, channel: str, call_id, failed: bool = False) -> Call:
    """Hangs up from a socket in the call (the caller's, or the callee's that answered); the
    callee may also refuse a ringing call as failed (no microphone or camera)."""
    call_uuid = check_call_id(call_id)
    call = Call.objects.filter(pk=call_uuid).first()
    if call is None or user.pk not in (call.caller_id, call.callee_id):
        raise no_such_call()
    in_it = channel in (call.caller_channel, call.callee_channel) or (
        user.pk == call.callee_id and call.state == Call.State.RINGING
    )
    if not in_it:
        raise no_such_call()
    # A callee who hangs up on a ringing call refuses it: declined, unless it failed on their side.
    refused = user.pk == call.callee_id and call.state == Call.State.RINGING
    ended = call_end(call_uuid, "failed" if failed else ("declined" if refused else "hangup"))
    if ended is None:
        _refuse(user, call_uuid)
    return ended


def ice_take(user: User, call_id: str) -> None:
    """ICE candidates one user may send in one call, a minute (in the cache: every worker)."""
    wait = limits.take(
        "call-ice", f"{user.pk}:{call_id}", limit=settings.CALL_ICE_PER_MINUTE, window=timedelta(minutes=1)
    )
    if wait is not None:
        raise RateLimited(retry_after=wait, detail="Too many ICE candidates; they are not relayed.")


def call_end(call_id, reason: str, *, only_state: str | None = None, callee: User | None = None) -> Call | None:
    """Ends a call still in progress (as `reason`), once: None when it had ended already (or was not
    in `only_state`, or not `callee`'s). Stores its record and tells both sides."""
    with transaction.atomic():
        found = Call.objects.select_for_update().filter(pk=call_id).exclude(state=Call.State.ENDED)
        if only_state is not None:
            found = found.filter(state=only_state)
        if callee is not None:
            found = found.filter(callee=callee)
        call = found.first()
        if call is None:
            return None
        _finish(call, reason, now=timezone.now())
    return call


def _outcome(call: Call, reason: str) -> str:
    if reason == "hangup" and call.state == Call.State.RINGING:
        return "cancelled"
    return reason


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def call_summary(call: Call, outcome: str) -> str:
    """The record's words: "Video call · 2:31", "Missed voice call", "Declined voice call", "Busy"."""
    media = "video" if call.media == Call.Media.VIDEO else "voice"
    if outcome == "hangup" and call.answered_at is not None:
        return f"{media.capitalize()} call · {_duration((call.ended_at - call.answered_at).total_seconds())}"
    if outcome == "busy":
        return "Busy"
    return {
        "missed": f"Missed {media} call",
        "cancelled": f"Cancelled {media} call",
        "declined": f"Declined {media} call",
    }.get(outcome, f"Failed {media} call")


def _finish(call: Call, reason: str, *, now) -> None:
    """In the caller's transaction: the call ended, its record stored and pushed, both sides told."""
    was_ringing = call.state == Call.State.RINGING
    outcome = _outcome(call, reason)
    call.state = Call.State.ENDED
    call.ended_at = now
    call.outcome = outcome
    message = Message.objects.create(
        conversation_id=call.conversation_id,
        sender_id=call.caller_id,
        body=call_summary(call, outcome),
        kind=Message.Kind.CALL,
    )
    call.message = message
    call.save(update_fields=["state", "ended_at", "outcome", "message"])
    Conversation.objects.filter(pk=call.conversation_id).update(
        last_message=message, last_activity_at=message.created_at
    )
    # The caller has seen the record; so has a callee who answered or declined. One who missed
    # the call (or was busy, or it failed while ringing) finds it unread, as a missed call.
    read_by = [call.caller_id] + ([call.callee_id] if outcome in ("hangup", "declined") else [])
    Membership.objects.filter(conversation_id=call.conversation_id, user_id__in=read_by).update(
        last_read_message_id=message.pk
    )
    ended = {"type": "call.ended", "call_id": str(call.pk), "reason": reason}
    sends = [(call.caller_channel, None, _signal(ended, ended=str(call.pk)))]
    if was_ringing and reason != "busy":
        sends.append((None, user_group(call.callee_id), _signal(ended, ended=str(call.pk))))
    elif call.callee_channel:
        sends.append((call.callee_channel, None, _signal(ended, ended=str(call.pk))))
    # Told first (on commit, in this order), so a page ends the call, then shows its record.
    _after_commit(sends)
    message.sender = User.objects.select_related("avatar").get(pk=call.caller_id)
    message.media_items = []
    events_publish(
        user_ids=[call.caller_id, call.callee_id],
        event_type="message.new",
        ref={"message": message.pk},
        frame={"message": message_data(message)},
    )


# Ends that nobody asked for: the ring timeout, and workers that died ---------------------------


def _worker_key(worker: str) -> str:
    return f"calls:worker:{worker}"


def worker_beat() -> None:
    """Says this worker is alive, for three sweeps: a worker that stops beating is taken for dead."""
    cache.set(_worker_key(WORKER_ID), 1, timeout=max(1, int(settings.CALL_SWEEP_SECONDS * 3)))


def call_expire(call_id) -> Call | None:
    """Ends the call as missed if it still rings once its deadline is past."""
    return call_end(call_id, "missed", only_state=Call.State.RINGING)


def sweep() -> int:
    """Ends what nobody else will: ringing calls past their deadline (missed), and calls whose
    caller's or answering callee's worker stopped beating (failed). Returns how many it ended."""
    in_progress = Call.objects.filter(state__in=[Call.State.RINGING, Call.State.ACTIVE])
    if not settings.REDIS_URL:
        # The embedded default: one process, whose local cache knows no other worker's heartbeat.
        # It judges only its own calls (those of a process before it ended when it started).
        in_progress = in_progress.filter(Q(caller_worker=WORKER_ID) | Q(callee_worker=WORKER_ID))
    live = list(in_progress.values_list("pk", "state", "ring_deadline", "caller_worker", "callee_worker"))
    if not live:
        return 0
    workers = {worker for row in live for worker in row[3:] if worker}
    alive = cache.get_many([_worker_key(worker) for worker in workers])
    now = timezone.now()
    ended = 0
    for pk, state, deadline, caller_worker, callee_worker in live:
        dead = _worker_key(caller_worker) not in alive or (
            state == Call.State.ACTIVE and callee_worker and _worker_key(callee_worker) not in alive
        )
        if dead:
            ended += call_end(pk, "failed") is not None
        elif state == Call.State.RINGING and deadline <= now:
            ended += call_expire(pk) is not None
    return ended


_sweepers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


async def sweeper_start() -> None:
    """Starts this worker's heartbeat and sweep (once per event loop); the first beat is made
    before it returns, so a call this worker takes is never taken for a dead worker's."""
    loop = asyncio.get_running_loop()
    if loop in _sweepers:
        return
    _sweepers[loop] = loop.create_task(_sweeper())
    try:
        await sync_to_async(worker_beat, thread_sensitive=False)()
    except LAYER_ERRORS as error:
        logger.warning("Call heartbeat not stored (%s)", error)
    if not settings.REDIS_URL:
        from channels.db import database_sync_to_async

        await database_sync_to_async(calls_of_earlier_processes_end)()


def calls_of_earlier_processes_end() -> int:
    """On the embedded default (one process, no shared cache), the calls still in progress when the
    process starts were its predecessor's (stopped or killed): they end as failed."""
    earlier = (
        Call.objects.exclude(state=Call.State.ENDED).exclude(caller_worker=WORKER_ID).exclude(callee_worker=WORKER_ID)
    )
    return sum(call_end(pk, "failed") is not None for pk in earlier.values_list("pk", flat=True))


async def _sweeper() -> None:
    from channels.db import database_sync_to_async

    while True:
        await asyncio.sleep(settings.CALL_SWEEP_SECONDS)
        try:
            await sync_to_async(worker_beat, thread_sensitive=False)()
            await database_sync_to_async(sweep)()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Call sweep failed")


def ring_timer(call_id: str) -> None:
    """Ends the call as missed at its deadline, from the worker that rang it (the sweep is the
    safety net if this worker dies first)."""
    from channels.db import database_sync_to_async

    async def expire() -> None:
        await asyncio.sleep(settings.CALL_RING_SECONDS)
        try:
            await database_sync_to_async(call_expire)(call_id)
        except Exception:
            logger.exception("Ending unanswered call %s failed", call_id)

    task = asyncio.get_running_loop().create_task(expire())
    _timers.add(task)
    task.add_done_callback(_timers.discard)


_timers: set[asyncio.Task] = set()
