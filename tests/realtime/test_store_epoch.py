"""The store's epoch (common.store_epoch): every resume is answered with it, a resume with another
one resyncs, and a change of epoch closes the open sockets so that their clients resume and resync.

A crash of the database may lose the last sends acknowledged before it and give their seqs again;
a client holding the old numbers would take the new events for ones it has. The epoch is how it
finds out. The crash itself is in tests/chat/test_database_crash.py (PostgreSQL).
"""

import asyncio
import json
import os
import shutil
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import token_for
from chat import services
from common import store_epoch
from config.asgi import application
from tests.live import Socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("consumer_threads_close_connections")]

OTHER_EPOCH = "0123456789abcdef"


def test_the_epoch_is_the_same_on_every_connection_to_the_same_database():
    first = store_epoch.store_epoch()
    connection.close()
    connection.ensure_connection()
    assert store_epoch.store_epoch() == first
    assert len(first) == 16 and first != OTHER_EPOCH


def test_an_sqlite_file_restored_from_a_copy_is_another_epoch(tmp_path):
    """SQLite loses nothing committed when the process crashes, only when the machine does (its boot
    id changes then); a file put back from a backup holds older seqs, and is another file."""
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"")
    shutil.copy(database, tmp_path / "backup.sqlite3")
    at = SimpleNamespace(vendor="sqlite", settings_dict={"NAME": database})
    first = store_epoch._read(at)
    assert store_epoch._read(at) == first
    os.replace(tmp_path / "backup.sqlite3", database)
    assert store_epoch._read(at) != first


def test_me_and_every_page_carry_the_epoch(client, alice):
    api = APIClient()
    api.force_authenticate(alice)
    me = api.get("/api/me/").json()
    assert me["epoch"] == store_epoch.store_epoch()
    client.force_login(alice)
    page = client.get("/chat/").content.decode()
    assert f'data-store-epoch="{me["epoch"]}"' in page


@pytest.mark.live
def test_a_resume_is_answered_with_the_epoch_and_one_with_another_epoch_resyncs(daphne_server, alice, bob, befriend):
    conversation = befriend(alice, bob)
    services.message_send(sender=alice, conversation=conversation, body="before")
    with Socket.open(daphne_server, bob) as socket:
        socket.send(type="resume", after=0)
        *replayed, done = socket.until("resume.done")
        assert [frame["message"]["body"] for frame in replayed if frame["type"] == "message.new"] == ["before"]
        epoch = done["epoch"]
        assert epoch == store_epoch.store_epoch()

        # The same epoch: nothing missed, nothing replayed.
        socket.send(type="resume", after=done["last"], epoch=epoch)
        assert socket.until("resume.done") == [{"type": "resume.done", "last": done["last"], "epoch": epoch}]

        # Another epoch: even a seq the store has is not trusted to name the same event.
        socket.send(type="resume", after=done["last"], epoch=OTHER_EPOCH)
        assert socket.expect("resync") == {"type": "resync", "last": done["last"], "epoch": epoch}

        # An epoch that is not a string is refused, and the socket stays open.
        socket.send(type="resume", after=0, epoch=5)
        assert socket.expect("error")["code"] == "invalid"
        socket.send(type="resume", after=0, epoch="x" * 65)
        assert socket.expect("error")["code"] == "too_long"
        socket.send(type="ping")
        assert socket.expect("pong")["type"] == "pong"


def test_when_a_new_connection_finds_another_epoch_every_open_socket_is_closed_to_resume(alice, bob, monkeypatch):
    keys = token_for(user=alice).key, token_for(user=bob).key

    async def scenario():
        sockets = [WebsocketCommunicator(application, f"/ws/?token={key}") for key in keys]
        for socket in sockets:
            assert (await socket.connect())[0]
        await sockets[0].send_to(text_data=json.dumps({"type": "ping"}))
        assert json.loads(await sockets[0].receive_from(timeout=5))["type"] in ("pong", "presence")

        # What a restarted PostgreSQL looks like to a worker: its connections are gone, and the
        # next one it opens reads another start time.
        monkeypatch.setattr(store_epoch, "_read", lambda connection: OTHER_EPOCH)
        await database_sync_to_async(_reconnect)()

        for socket in sockets:
            closed = await _next_close(socket)
            assert closed == {"type": "websocket.close", "code": 4012}
        for socket in sockets:
            await socket.disconnect()

    asyncio.run(scenario())
    assert store_epoch.store_epoch() == OTHER_EPOCH


def test_a_connection_that_finds_the_same_epoch_closes_nothing(alice):
    key = token_for(user=alice).key

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/?token={key}")
        assert (await socket.connect())[0]
        await database_sync_to_async(_reconnect)()
        await socket.send_to(text_data=json.dumps({"type": "ping"}))
        assert json.loads(await socket.receive_from(timeout=5)) == {"type": "pong"}
        await socket.disconnect()

    asyncio.run(scenario())


def _reconnect() -> None:
    connection.close()
    connection.ensure_connection()


async def _next_close(socket: WebsocketCommunicator) -> dict:
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return output
