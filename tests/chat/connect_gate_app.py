"""A worker for tests/chat/test_connect_gate.py: the connect gate in front of an application whose
handshakes take GATE_TEST_HOLD seconds each (as under a reconnect storm, slowed down)."""

import asyncio
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup()

from config import connect_gate  # noqa: E402
from config.connect_gate import ConnectGate  # noqa: E402

# A pace from the first answers is trusted here: the test has a handful of clients, not thousands.
connect_gate.PACE_ANSWERS_TRUSTED = 1


async def slow_handshakes(scope, receive, send):
    await receive()  # websocket.connect
    await asyncio.sleep(float(os.environ["GATE_TEST_HOLD"]))
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


application = ConnectGate(slow_handshakes)
