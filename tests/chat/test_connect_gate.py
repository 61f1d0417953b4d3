"""config.connect_gate: at most WS_CONNECTS_AT_ONCE handshakes are worked on; a socket once answered
(accepted or closed), or an application that ended, lets the next one in."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from config.connect_gate import ConnectGate


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
