"""A serving process copies SQLite's log back into the database file from a thread of its own, every
second (common.sqlite_checkpoints), not inside whichever commit takes the log past 1,000 pages."""

import sqlite3
import time

import pytest
from django.db import connection

from chat.models import Message
from tests.live import rest

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default's SQLite file"),
]


def in_the_database_file(message_id: int) -> bool:
    """Whether the row is in the database file itself: `immutable` reads the file and not the log.
    Until the first checkpoint the file holds no tables at all, and one read while a checkpoint
    writes may find it half-written: both are "not yet"."""
    path = connection.settings_dict["NAME"]
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as reader:
            return reader.execute("SELECT 1 FROM chat_message WHERE id = ?", [message_id]).fetchone() is not None
    except sqlite3.DatabaseError:
        return False


def test_a_message_the_server_stored_reaches_the_database_file_within_seconds(daphne_server, alice, bob, befriend):
    conversation = befriend(alice, bob)
    # A few pages into the log: far below the 1,000 at which a commit would have copied them back.
    sent = rest(daphne_server, alice, "POST", f"/api/conversations/{conversation.pk}/messages/", {"body": "kept"})
    message_id = sent.json()["id"]
    assert Message.objects.filter(pk=message_id).exists()

    deadline = time.monotonic() + 10
    while not in_the_database_file(message_id):
        assert time.monotonic() < deadline, "the log was not checkpointed within 10 s"
        time.sleep(0.2)
