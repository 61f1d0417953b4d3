"""config.connect_gate: at most WS_CONNECTS_AT_ONCE handshakes are worked on; a socket once answered
(accepted or closed), or an application that ended, lets the next one in; past what can be let in
before daphne's deadline, a new handshake is refused at once (503, Retry-After) and gets in later."""

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import pytest
from asgiref.sync import async_to_sync
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from config import connect_gate
from config.connect_gate import ConnectGate
from tests.live import DAPHNE_FLAGS, ROOT, free_port, wait_listening


class Handshakes:
    """An inner application that records how many handshakes run at once and answers when told."""

    def __init__(self):
        self.running = 0
        self.most = 0
        self.calls = 0
        self.answers: asyncio.Queue = asyncio.Queue()

    async def __call__(self, scope, receive, send):
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            answer = await self.answers.get()
            if answer == "raise":
                raise RuntimeError("the application failed")
            if answer == "return":
                return
            await send({"type": answer})
        finally:
            self.running -= 1
        await asyncio.Event().wait()  # an accepted socket lives on after its handshake


async def nothing(message=None):
    return {"type": "websocket.connect"}


@pytest.mark.parametrize("answer", ["websocket.accept", "websocket.close", "raise", "return"])
def test_each_way_a_handshake_ends_lets_the_next_one_in(settings, answer):
    settings.WS_CONNECTS_AT_ONCE = 2

    async def scenario():
        inner = Handshakes()
        gate = ConnectGate(inner)
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        sockets = [asyncio.create_task(gate({"type": "websocket"}, nothing, send)) for _ in range(5)]
        await asyncio.sleep(0.01)
        waiting_at_first = inner.running
        for _ in range(5):
            inner.answers.put_nowait(answer)
        await asyncio.sleep(0.05)
        for socket in sockets:
            socket.cancel()
        await asyncio.gather(*sockets, return_exceptions=True)
        return waiting_at_first, inner.most, sum(1 for _ in sent), inner.answers.qsize()

    worked_on, most, answered, unanswered = async_to_sync(scenario)()
    assert (worked_on, most) == (2, 2)  # never more than the gate lets in
    assert unanswered == 0  # yet all five got their turn
    assert answered == (5 if answer.startswith("websocket.") else 0)


def test_a_client_gone_while_it_waited_is_not_worked_on(settings):
    settings.WS_CONNECTS_AT_ONCE = 1

    async def scenario():
        inner = Handshakes()
        gate = ConnectGate(inner)
        first_queue, second_queue = asyncio.Queue(), asyncio.Queue()

        async def send(message):
            pass

        first = asyncio.create_task(gate({"type": "websocket"}, first_queue.get, send))
        second_queue.put_nowait({"type": "websocket.connect"})
        second = asyncio.create_task(gate({"type": "websocket"}, second_queue.get, send))
        await asyncio.sleep(0.01)
        second_queue.put_nowait({"type": "websocket.disconnect", "code": 1006})  # gone, or dropped by daphne
        inner.answers.put_nowait("websocket.accept")
        await asyncio.wait_for(second, 1)  # ends without the application
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        return inner.calls, second_queue.qsize()

    calls, left_unread = async_to_sync(scenario)()
    assert calls == 1  # the first socket's application ran; the second's never started
    assert left_unread == 2  # and nothing took its connect or its disconnect


@pytest.mark.parametrize("extensions", [{"websocket.http.response": {}}, {}])
def test_a_full_gate_answers_before_the_application_with_503_or_where_it_cannot_a_close(settings, extensions):
    settings.WS_CONNECTS_WAITING_FREE = 2
    settings.WS_CONNECT_WAIT_MOST = 5

    async def scenario():
        gate = connect_gate._gate()
        gate.waiting, gate.seconds_per_answer = 3, 2.0  # three waiting at 2 s each: 6 s to drain
        gate.paced = connect_gate.PACE_ANSWERS_TRUSTED
        inner = Handshakes()
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        await ConnectGate(inner)({"type": "websocket", "extensions": extensions}, nothing, send)
        return inner.calls, sent

    calls, sent = async_to_sync(scenario)()
    assert calls == 0
    if extensions:
        assert sent[0] == {
            "type": "websocket.http.response.start",
            "status": 503,
            "headers": [(b"retry-after", b"6"), (b"content-type", b"text/plain")],
        }
        assert sent[1]["type"] == "websocket.http.response.body"
    else:
        assert sent == [{"type": "websocket.close"}]  # daphne's 403: the client retries all the same


# Through a real worker (config.serve, as `make run` starts it) ------------------------------------


@contextmanager
def slow_worker(*, hold: float, wait_most: float, waiting_free: int = 1, deadline: float | None = None):
    """config.serve on tests/chat/connect_gate_app.py: one handshake at a time, each `hold` seconds
    (`deadline`: daphne's for the application to answer a handshake, if not the Makefile's)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "WS_CONNECTS_AT_ONCE": "1",
        "WS_CONNECTS_WAITING_FREE": str(waiting_free),
        "WS_CONNECT_WAIT_MOST": str(wait_most),
        "GATE_TEST_HOLD": str(hold),
    }
    flags = [*DAPHNE_FLAGS, *(["--websocket_connect_timeout", str(deadline)] if deadline is not None else [])]
    command = [sys.executable, "-m", "config.serve", *flags, "-v0", "-b", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "tests.chat.connect_gate_app:application"], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        wait_listening(port, process, "config.serve")
        yield f"ws://127.0.0.1:{port}/ws/"
    finally:
        process.terminate()
        process.wait(10)


def test_past_what_can_be_let_in_before_the_deadline_a_handshake_is_refused_with_503_and_gets_in_later():
    hold = 0.4
    with slow_worker(hold=hold, wait_most=hold * 0.75) as url, ThreadPoolExecutor(8) as pool:
        # Four at once: one worked on, three waiting (the pace is not known yet: none is refused).
        first = [pool.submit(connect, url, open_timeout=30) for _ in range(4)]
        time.sleep(2.5 * hold)  # two answered while others waited: the pace is known, two still wait
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=30)
        response = refused.value.response
        assert response.status_code == 503
        assert 1 <= int(response.headers["Retry-After"]) <= 30
        # Answered by config.serve as soon as the headers were read (the gate's own refusal, made
        # after daphne has built the socket, carries no text: autobahn's refusal has no body).
        assert response.body == connect_gate.REFUSAL_TEXT

        # The ones that waited all got in, in turn; the refused client, coming back later, too.
        with ExitStack() as sockets:
            waited = [sockets.enter_context(future.result(timeout=30)) for future in first]
            came_back = sockets.enter_context(connect(url, open_timeout=30))
            assert [socket.protocol.state.name for socket in [*waited, came_back]] == ["OPEN"] * 5


def test_a_handshake_the_application_has_not_answered_by_the_deadline_gets_503_not_silence():
    # The gate lets it wait (it never refuses here), and the application takes longer than daphne's
    # deadline: as for a handshake stuck behind a reconnect storm's queue. The client is answered
    # (503, Retry-After), not dropped without a response.
    with (
        slow_worker(hold=30, wait_most=100, waiting_free=1000, deadline=1) as url,
        pytest.raises(InvalidStatus) as refused,
    ):
        connect(url, open_timeout=20)
    response = refused.value.response
    assert response.status_code == 503
    assert 1 <= int(response.headers["Retry-After"]) <= 30
