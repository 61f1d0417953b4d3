"""On PostgreSQL the server binds the parameters and prepares a statement once a connection has run
it five times (config.settings.base): a chat send's statements are then parsed and planned once per
connection, not on every message. DATABASE_PREPARED_STATEMENTS=0 turns it off (for a pooler in
transaction mode, which cannot keep a connection's prepared statements)."""

import pytest
from django.db import connection

from chat.models import Message
from config.settings.base import database_from_url

URL = "postgres://postgres@127.0.0.1:5432/tandem"


@pytest.mark.django_db
def test_a_send_made_again_and_again_is_planned_once_and_stores_every_message(client_for, alice, bob, befriend):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    chat = befriend(alice, bob)
    api = client_for(alice)
    bodies = [f"otter {n}: 'quoted', back\\slash, {{braces}}, %s" for n in range(7)]
    for body in bodies:
        assert api.post(f"/api/conversations/{chat.pk}/messages/", {"body": body}, format="json").status_code == 201

    assert list(Message.objects.filter(conversation=chat).order_by("pk").values_list("body", flat=True)) == bodies
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    table = Message._meta.db_table
    # The send's INSERT (on PostgreSQL inside a WITH that also moves the conversation's last message).
    assert any(f'INSERT INTO "{table}"' in statement for statement in prepared), prepared


def test_prepared_statements_are_on_for_postgresql_unless_turned_off(monkeypatch):
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    assert database_from_url(URL)["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "0")
    assert "prepare_threshold" not in database_from_url(URL).get("OPTIONS", {})
    assert "server_side_binding" not in database_from_url(URL).get("OPTIONS", {})
