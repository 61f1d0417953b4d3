"""On PostgreSQL a chat send's COMMIT waits for the disk only as CHAT_SYNCHRONOUS_COMMIT says (off by
default, as SQLite's synchronous=NORMAL), and only for the send: the connection's other
transactions keep the server's own setting."""

import pytest
from django.db import connection

from chat.models import Message
from chat.signals import messages_stored

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit')")
        return cursor.fetchone()[0]


@pytest.fixture
def seen_by_the_send():
    """What the send's own transaction has for synchronous_commit, read while it stores the message."""
    seen = []

    def record(**kwargs):
        seen.append(_synchronous_commit())

    messages_stored.connect(record, dispatch_uid="test_send_commit")
    yield seen
    messages_stored.disconnect(dispatch_uid="test_send_commit")


@pytest.mark.parametrize("configured", ["off", "on"])
def test_a_sends_commit_waits_for_the_disk_as_configured_and_nothing_else_changes(
    alice, bob, befriend, client_for, seen_by_the_send, settings, configured
):
    settings.CHAT_SYNCHRONOUS_COMMIT = configured
    chat = befriend(alice, bob)
    server_default = _synchronous_commit()
    assert server_default == "on"  # PostgreSQL's default, and this machine's

    sent = client_for(alice).post(f"/api/conversations/{chat.pk}/messages/", {"body": "hi"}, format="json")

    assert sent.status_code == 201, sent.content
    assert seen_by_the_send == [configured]
    assert Message.objects.get(pk=sent.json()["id"]).body == "hi"
    assert _synchronous_commit() == server_default  # SET LOCAL: gone with the send's transaction
    listed = client_for(bob).get(f"/api/conversations/{chat.pk}/messages/").json()
    assert [m["body"] for m in listed["results"]] == ["hi"]
