"""Calls across two daphne workers on PostgreSQL + Redis: the call's state is shared, and a worker
killed mid-call leaves no call ringing."""

import os
import signal

import pytest

from chat.models import Call
from tests.conftest import skip_or_fail
from tests.live import LiveDaphne, Socket, daphne_env

from .test_calls import ANSWER, CANDIDATE, NOISE, _calls_end_before_teardown, ended, invite  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_workers(transactional_db):
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("several workers need REDIS_URL (channels-redis)", "REQUIRE_SERVICES")
    # Sweeps each second: a dead worker's heartbeat is gone within 3 s.
    env = {**daphne_env(), "CALL_SWEEP_SECONDS": "1"}
    workers = [LiveDaphne(env), LiveDaphne(env)]
    for worker in workers:
        worker.start()
    yield workers
    for worker in workers:
        worker.stop()


def test_a_call_across_workers(two_workers, alice, bob, befriend):
    worker_a, worker_b = two_workers
    conversation = befriend(alice, bob)
    caller = Socket.open(worker_a, alice)
    tab_on_a, tab_on_b = Socket.open(worker_a, bob), Socket.open(worker_b, bob)
    call_id = invite(caller, conversation, media="video")
    for tab in (tab_on_a, tab_on_b):
        tab.expect("call.incoming", skip=NOISE, call_id=call_id)
    tab_on_b.send(type="call.answer", call_id=call_id, sdp=ANSWER)
    caller.expect("call.answered", skip=NOISE, call_id=call_id, sdp=ANSWER)
    tab_on_a.expect("call.ended", skip=NOISE, call_id=call_id, reason="answered_elsewhere")
    caller.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    tab_on_b.expect("call.ice", skip=NOISE, call_id=call_id)
    tab_on_b.send(type="call.ice", call_id=call_id, candidate=CANDIDATE)
    caller.expect("call.ice", skip=NOISE, call_id=call_id)
    tab_on_b.send(type="call.hangup", call_id=call_id)
    assert ended(caller, call_id, "hangup")["body"].startswith("Video call · ")
    assert ended(tab_on_b, call_id, "hangup")["body"].startswith("Video call · ")
    assert Call.objects.get(pk=call_id).outcome == "hangup"


def test_a_worker_killed_while_ringing_ends_the_call_as_failed(two_workers, alice, bob, befriend):
    worker_a, worker_b = two_workers
    conversation = befriend(alice, bob)
    caller = Socket.open(worker_a, alice)
    callee = Socket.open(worker_b, bob)
    call_id = invite(caller, conversation)
    callee.expect("call.incoming", skip=NOISE, call_id=call_id)
    worker_a.process.send_signal(signal.SIGKILL)
    worker_a.process.wait()
    worker_a.process = None
    # Well within the 45 s ring: the surviving worker sees the dead one's heartbeat gone.
    assert ended(callee, call_id, "failed", timeout=15)["body"] == "Failed voice call"
    assert Call.objects.get(pk=call_id).state == "ended"
