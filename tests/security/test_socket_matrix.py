"""The authorization matrix for WebSocket frames: every client frame type × every role, live.

A refused frame must be answered exactly as the same frame naming a conversation that does
not exist. And while the table runs, every role's socket stays open: at the end, no socket
of someone outside a conversation may have heard anything of it.
"""

import uuid

import pytest

from chat.models import Call
from tests.chat.test_calls import _calls_end_before_teardown  # noqa: F401 (a fixture: calls end before the flush)
from tests.live import Socket

from .conftest import FIGURES, FORMER, MEMBERS, MISSING_ID, OUTSIDERS, ROLES, answers, build_world

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

QUIET = "quiet"  # no answer at all (typing, read): the pong that follows comes first
SENDERS = answers((MEMBERS, "message.ack"), ((*FORMER, *OUTSIDERS), "not_found"), ("anonymous", "closed 4401"))
ACTIVITY = answers((MEMBERS, QUIET), ((*FORMER, *OUTSIDERS), "not_found"), ("anonymous", "closed 4401"))
# Calls: only the two members of the direct conversation may call (the owner rings the member; the
# member, rung by then, is in a call already); a group may not be called; the ended call of the
# world is answered to its two people as over, to anyone else as missing.
CALLERS = answers(
    ("owner", QUIET), ("member", "in_call"), ((*FORMER, *OUTSIDERS), "not_allowed"), ("anonymous", "closed 4401")
)
NOBODY_CALLS = answers(((*MEMBERS, *FORMER, *OUTSIDERS), "not_allowed"), ("anonymous", "closed 4401"))
PARTIES = answers((MEMBERS, "call_state"), ((*FORMER, *OUTSIDERS), "not_found"), ("anonymous", "closed 4401"))
NOT_IN_IT = answers(((*MEMBERS, *FORMER, *OUTSIDERS), "not_found"), ("anonymous", "closed 4401"))
SDP = "v=0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}
# The field a refusal names, and what it names instead to be compared with (a conversation by default).
MISSING = {"call": ("call_id", str(uuid.UUID(int=1)))}

# (frame with "@key" values, {role: answer}, the key a refusal must not tell apart from a missing one)
FRAMES = [
    ({"type": "ping"}, answers((ROLES[:-1], "pong"), ("anonymous", "closed 4401")), None),
    ({"type": "resume", "after": 0}, answers((ROLES[:-1], "resume.done"), ("anonymous", "closed 4401")), None),
    *[
        ({"type": "message.send", "conversation": f"@{where}", "body": "hi", "client_id": "@client_id"}, SENDERS, where)
        for where in ("group", "direct")
    ],
    *[({"type": "typing", "conversation": f"@{where}"}, ACTIVITY, where) for where in ("group", "direct")],
    *[
        ({"type": "read", "conversation": f"@{where}", "up_to": f"@{message}"}, ACTIVITY, where)
        for where, message in (("group", "message"), ("direct", "direct_message"))
    ],
    ({"type": "call.config"}, answers((ROLES[:-1], "call.config"), ("anonymous", "closed 4401")), None),
    (
        {"type": "call.invite", "conversation": "@group", "call_id": "@call_id", "media": "voice", "sdp": SDP},
        NOBODY_CALLS,
        "group",
    ),
    (
        {"type": "call.invite", "conversation": "@direct", "call_id": "@call_id", "media": "video", "sdp": SDP},
        CALLERS,
        "direct",
    ),
    ({"type": "call.answer", "call_id": "@call", "sdp": SDP}, PARTIES, "call"),
    ({"type": "call.decline", "call_id": "@call"}, PARTIES, "call"),
    ({"type": "call.hangup", "call_id": "@call"}, NOT_IN_IT, "call"),
    ({"type": "call.ice", "call_id": "@call", "candidate": CANDIDATE}, NOT_IN_IT, "call"),
]
ANSWERS = ("pong", "resume.done", "resync", "message.ack", "error", "call.config")
# What the other roles' frames push to a socket while the table runs (presence: the sockets
# opening), passed over on the way to an answer; whoever must not hear them is checked at the end.
PUSHES = ("presence", "message.new", "typing", "read", "call.incoming", "call.ended")
# What a replay may hold besides those: everything the world's making stored.
REPLAYED = (*PUSHES, "conversation.members", "contact.request", "contact.accepted", "notification")


def test_every_frame_type_is_in_the_matrix():
    from chat.consumers import TandemConsumer

    assert {frame["type"] for frame, _, _ in FRAMES} == set(TandemConsumer.handlers)


def filled(frame: dict, values: dict) -> dict:
    return {
        key: values[value[1:]] if isinstance(value, str) and value.startswith("@") else value
        for key, value in frame.items()
    }


def answer(socket: Socket, frame: dict) -> tuple[str, dict | None]:
    """What the server answers this socket to `frame`: the answer's name and the frame itself."""
    socket.send(**frame)
    if frame["type"] == "message.send":
        got = socket.expect_any(ANSWERS, client_id=frame["client_id"], skip=PUSHES)
    elif frame["type"] == "resume":
        got = socket.expect_any(("resume.done", "resync", "error"), skip=REPLAYED)
    else:
        if frame["type"] != "ping":
            socket.send(type="ping")
        got = socket.expect_any(ANSWERS, skip=PUSHES)
        if frame["type"] != "ping":
            if got["type"] == "pong":
                return QUIET, None
            socket.expect("pong", skip=PUSHES)  # so the next question does not take this pong for its answer
    return (got["code"] if got["type"] == "error" else got["type"]), got


def overheard(frame: dict, role: str, world) -> bool:
    """A frame about the owner's conversations that reached someone outside them."""
    if frame["type"] in ANSWERS:
        return False
    if frame["type"] == "conversation.members" and role in FORMER:
        return False  # who came and went while they were in the group
    conversation = frame.get("conversation") or (frame.get("message") or {}).get("conversation")
    return conversation in (world.group.pk, world.direct.pk)


def test_each_role_gets_exactly_its_frame_answers(live_daphne, make_user):
    world = build_world(make_user)
    values = {
        "group": world.group.pk,
        "direct": world.direct.pk,
        "message": world.message.pk,
        "direct_message": world.direct_message.pk,
    }
    # A call of the world, over: frames naming it test who may touch a call they are (not) in.
    values["call"] = str(
        Call.objects.create(
            id=uuid.uuid4(),
            conversation=world.direct,
            caller=world.user("owner"),
            callee=world.user("member"),
            media="voice",
            state=Call.State.ENDED,
            caller_channel="gone",
            caller_worker="gone",
            ring_deadline=world.direct.created_at,
        ).pk
    )
    sockets = {role: Socket.open(live_daphne, world.user(role)) for role in ROLES if role != "anonymous"}
    wrong = []
    for number, (template, expected, secret) in enumerate(FRAMES):
        for role in ROLES:
            FIGURES["authz matrix: socket cases run"] += 1
            call_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{role}-{number}"))
            frame = filled(template, {**values, "client_id": f"{role}-{number}", "call_id": call_id})
            if role == "anonymous":
                refused = Socket.open(live_daphne)  # no credentials
                got = f"closed {refused.wait_closed().code}"
                refused.close()
                if got != expected[role]:
                    wrong.append(f"{frame} as anonymous: {got}")
                continue
            got, body = answer(sockets[role], frame)
            if got != expected[role]:
                wrong.append(f"{frame} as {role}: {got} {body} (expected {expected[role]})")
            elif secret and got in ("not_found", "not_allowed"):
                named, instead = MISSING.get(secret, ("conversation", MISSING_ID))
                missing = {**frame, named: instead}
                FIGURES["authz matrix: socket refusals compared with a missing id's"] += 1
                unknown = answer(sockets[role], missing)
                if unknown != (got, body):
                    wrong.append(f"{frame} as {role}: {body}, unlike a missing conversation's {unknown}")

    for role, socket in sockets.items():
        if role not in MEMBERS:
            socket.settle()
            wrong += [f"{role} heard {frame}" for frame in socket.frames if overheard(frame, role, world)]
    FIGURES["authz matrix: socket leaks or wrong answers"] += len(wrong)
    assert not wrong, "\n".join(wrong)
