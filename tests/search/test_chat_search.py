"""Chat history search (/api/chat/search/): the viewer's own messages only, from where their
membership's view starts, blocks in groups applied, never a recalled one; and history `around=`."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from search.backends import postgres as postgres_backend
from search.backends import sqlite as sqlite_backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def group(alice, bob, carol, befriend):
    """alice (admin) and bob; carol is alice's contact, not yet in the group."""
    befriend(alice, bob)
    befriend(alice, carol)
    conversation, _ = services.conversation_create(creator=alice, usernames=["bob"], title="Crew")
    return conversation


def say(client, conversation, body) -> int:
    answer = client.post(f"/api/conversations/{conversation.pk}/messages/", {"body": body}, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def found(client, q, **params) -> list[int]:
    answer = client.get("/api/chat/search/", {"q": q, **params})
    assert answer.status_code == 200, answer.content
    return [hit["id"] for hit in answer.json()["results"]]


def test_members_find_their_messages_newest_first_and_nobody_else_does(client_for, alice, bob, carol, group):
    first = say(client_for(alice), group, "明天去北京开会")
    second = say(client_for(bob), group, "北京见!")
    assert found(client_for(bob), "北京") == [second, first]
    assert found(client_for(alice), "北京", conversation=group.pk) == [second, first]
    assert found(client_for(carol), "北京") == []
    assert client_for(carol).get("/api/chat/search/", {"q": "北京", "conversation": group.pk}).status_code == 404
    assert found(client_for(alice), "北京 from:bob") == [second]
    hit = client_for(bob).get("/api/chat/search/", {"q": "北京"}).json()["results"][0]
    assert hit["highlight"] == "<mark>北京</mark>见!" and hit["conversation_id"] == group.pk


def test_visitors_may_not_search_chats(api):
    assert api.get("/api/chat/search/", {"q": "x"}).status_code in (401, 403)


def test_a_new_member_finds_nothing_from_before_and_a_leaver_nothing_new(client_for, alice, bob, carol, group):
    as_alice = client_for(alice)
    say(as_alice, group, "budget before carol")
    as_alice.post(f"/api/conversations/{group.pk}/members/", {"usernames": ["carol"]}, format="json")
    after = say(as_alice, group, "budget with carol")
    assert found(client_for(carol), "budget") == [after]
    assert as_alice.delete(f"/api/conversations/{group.pk}/members/carol/").status_code == 204
    say(as_alice, group, "budget after carol left")
    assert found(client_for(carol), "budget") == []


def test_a_recalled_message_is_never_found(client_for, alice, bob, group):
    kept = say(client_for(alice), group, "walrus one")
    recalled = say(client_for(alice), group, "walrus two")
    assert client_for(alice).post(f"/api/messages/{recalled}/recall/").status_code == 200
    assert found(client_for(alice), "walrus") == [kept]
    assert found(client_for(bob), "walrus") == [kept]


def test_blocked_senders_in_a_group_are_not_found(client_for, alice, bob, group):
    said = say(client_for(bob), group, "pelican news")
    assert found(client_for(alice), "pelican") == [said]
    services.block_create(user=alice, username="bob")
    assert found(client_for(alice), "pelican") == []
    services.block_delete(user=alice, username="bob")
    assert found(client_for(alice), "pelican") == [said]


def test_a_batch_of_the_group_commit_is_indexed_in_its_transaction(client_for, alice, bob, group):
    results = services.message_send_many(
        sends=[
            services.OutgoingMessage(sender=alice, conversation_id=group.pk, body="batch heron one"),
            services.OutgoingMessage(sender=bob, conversation_id=group.pk, body="batch heron two"),
        ]
    )
    assert found(client_for(alice), "heron") == [results[1].message.pk, results[0].message.pk]


def test_paging_back_through_many_hits(client_for, alice, bob, group):
    ids = [say(client_for(alice), group, f"llama {n}") for n in range(5)]
    answer = client_for(bob).get("/api/chat/search/", {"q": "llama", "limit": 2}).json()
    seen = [hit["id"] for hit in answer["results"]]
    while answer["next"]:
        answer = client_for(bob).get(answer["next"]).json()
        seen += [hit["id"] for hit in answer["results"]]
    assert seen == ids[::-1]


def test_history_around_a_message_loads_its_context(client_for, alice, bob, group):
    ids = [say(client_for(alice), group, f"line {n}") for n in range(9)]
    page = client_for(bob).get(f"/api/conversations/{group.pk}/messages/", {"around": ids[4], "limit": 4}).json()
    assert [m["id"] for m in page["results"]] == ids[3:7]
    assert page["older"] and page["newer"]
    older = client_for(bob).get(page["older"]).json()
    assert [m["id"] for m in older["results"]][-1] == ids[2]
    assert client_for(bob).get(f"/api/conversations/{group.pk}/messages/", {"around": "x"}).status_code == 400


def test_bad_input_is_refused(client_for, alice, group):
    as_alice = client_for(alice)
    assert as_alice.get("/api/chat/search/", {"q": "x", "conversation": "abc"}).status_code == 400
    assert as_alice.get("/api/chat/search/", {"q": "x", "cursor": "%%%"}).status_code == 400
    assert as_alice.get("/api/chat/search/", {"q": "y" * 300}).status_code == 400


def test_a_message_with_a_very_long_word_is_stored_and_found_by_its_other_words(client_for, alice, bob, group):
    """PostgreSQL refuses a lexeme past 2,047 bytes: such a "word" is left out of the index, and the
    message is stored (and found) like any other, on both databases."""
    long_one = say(client_for(alice), group, "needle " + "y" * 3000)
    assert found(client_for(bob), "needle") == [long_one]


def test_a_sent_message_is_indexed_by_one_statement_and_a_renamed_person_is_replaced(
    client_for, alice, bob, carol, group
):
    """A message is new to the index: its entry is one statement (on SQLite no DELETE first, of an
    entry that cannot exist), and it is found at once. A person renamed is replaced, not doubled."""
    table = (sqlite_backend if connection.vendor == "sqlite" else postgres_backend).TABLES["message"]
    with CaptureQueriesContext(connection) as ran:
        sent = say(client_for(alice), group, "kayak trip on sunday")
    writes = [q["sql"] for q in ran.captured_queries if f"INTO {table} " in q["sql"] or f"FROM {table} " in q["sql"]]
    assert len(writes) == 1 and "INSERT" in writes[0], writes
    assert found(client_for(bob), "kayak") == [sent]
    for name in ("Alice Paddler", "Alice Rower"):
        alice.display_name = name
        alice.save()
    people = client_for(carol).get("/api/search/", {"q": "Alice", "type": "users"}).json()["users"]
    assert [(p["username"], p["display_name"]) for p in people] == [("alice", "Alice Rower")]
