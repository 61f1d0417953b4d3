"""message_send_many: the socket writer's batch path keeps each send's own answer and the order."""

import pytest
from django.db import connection, connections

from chat.models import Message
from chat.services import OutgoingMessage, message_send_many
from realtime.models import Event

pytestmark = pytest.mark.django_db


def test_a_batch_stores_in_order_and_answers_each_send(alice, bob, make_user, befriend):
    carol = make_user(username="carol")
    with_bob = befriend(alice, bob)
    with_carol = befriend(carol, bob)
    sends = [
        OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="one", client_id="a1"),
        OutgoingMessage(sender=carol, conversation_id=with_bob.pk, body="not my chat", client_id="c1"),
        OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="   ", client_id="a2"),
        OutgoingMessage(sender=carol, conversation_id=with_carol.pk, body="hi bob", client_id="c2"),
        OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="one again", client_id="a1"),
        OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="two", client_id="a3"),
    ]
    results = message_send_many(sends=sends)

    assert [r.error.code if r.error else None for r in results] == [None, "not_found", "invalid", None, None, None]
    assert results[4].message.pk == results[0].message.pk  # the same client_id twice is one message
    # Each answer is its own stored row (the ids come back from one INSERT of the batch).
    for i in (0, 3, 5):
        stored = Message.objects.get(pk=results[i].message.pk)
        assert (stored.body, stored.sender_id, stored.created_at) == (
            results[i].message.body,
            sends[i].sender.pk,
            results[i].message.created_at,
        )
    assert [m.body for m in Message.objects.filter(conversation=with_bob).order_by("id")] == ["one", "two"]
    bob_events = list(Event.objects.filter(user=bob, type="message.new").order_by("seq"))
    assert [e.ref["message"] for e in bob_events] == [results[i].message.pk for i in (0, 3, 5)]
    assert [e.seq for e in bob_events] == list(range(bob_events[0].seq, bob_events[0].seq + 3))


def test_a_retried_batch_creates_nothing_new(alice, bob, befriend):
    conversation = befriend(alice, bob)
    sends = [
        OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=f"m{n}", client_id=f"k{n}")
        for n in range(3)
    ]
    first = message_send_many(sends=sends)
    again = message_send_many(sends=sends)
    assert all(r.created for r in first) and not any(r.created for r in again)
    assert [r.message.pk for r in first] == [r.message.pk for r in again]
    assert Message.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_one_send_that_breaks_its_batch_does_not_take_the_others_down(alice, bob, befriend, monkeypatch, caplog):
    import asyncio

    from chat import services, writer

    conversation = befriend(alice, bob)
    real = services.message_send_many

    def breaks_on_boom(*, sends):
        if any(send.body == "boom" for send in sends):
            raise RuntimeError("an unexpected failure")
        return real(sends=sends)

    monkeypatch.setattr(services, "message_send_many", breaks_on_boom)

    async def send_three():
        batcher = writer.MessageWriter()
        bodies = ["before", "boom", "after"]
        # Submitted before the writer runs, so the three go in one batch.
        futures = [
            batcher.submit(OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=body, client_id=body))
            for body in bodies
        ]
        results = await asyncio.gather(*futures)
        batcher.task.cancel()
        return results

    results = asyncio.run(send_three())
    assert [rendered["body"] if rendered else None for rendered, _ in results] == ["before", None, "after"]
    assert isinstance(results[1][1], RuntimeError)
    assert [m.body for m in Message.objects.filter(conversation=conversation).order_by("id")] == ["before", "after"]
    assert "storing them one by one" in caplog.text


def test_a_client_id_of_another_conversation_is_refused_and_the_rest_of_its_batch_stored(
    alice, bob, make_user, befriend
):
    """The lookup of an earlier client_id runs only once the unique constraint refused one (the
    whole batch is then redone one send at a time): each send still gets its own answer."""
    carol = make_user(username="carol")
    with_bob, with_carol = befriend(alice, bob), befriend(alice, carol)
    [first] = message_send_many(
        sends=[OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="one", client_id="k1")]
    )
    carol_events = Event.objects.filter(user=carol).count()
    results = message_send_many(
        sends=[
            OutgoingMessage(sender=alice, conversation_id=with_carol.pk, body="elsewhere", client_id="k1"),
            OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="two", client_id="k2"),
            OutgoingMessage(sender=alice, conversation_id=with_bob.pk, body="one, retried", client_id="k1"),
        ]
    )
    assert [r.error.code if r.error else None for r in results] == ["client_id_reused", None, None]
    assert results[0].error.status == 409
    assert (results[1].created, results[2].created) == (True, False)
    assert results[2].message.pk == first.message.pk
    assert [m.body for m in Message.objects.order_by("id")] == ["one", "two"]
    assert Event.objects.filter(user=carol).count() == carol_events
    bob_messages = [e.ref["message"] for e in Event.objects.filter(user=bob, type="message.new").order_by("seq")]
    assert bob_messages == [first.message.pk, results[1].message.pk]


def test_each_push_is_the_stored_event_as_its_reader_replays_it(
    alice, bob, make_user, django_capture_on_commit_callbacks
):
    """A body is encoded once for every reader who sees the same frame, each reader's seq spliced
    in: what each member is pushed must be exactly what a replay of that event gives them."""
    import orjson

    from realtime.selectors import replay_batch
    from realtime.services import pushes_deferred
    from tests.factories import ConversationFactory

    carol = make_user(username="carol")
    group = ConversationFactory(creator=alice, members=[bob, carol], title="three")
    with pushes_deferred() as pushes, django_capture_on_commit_callbacks(execute=True):
        message_send_many(
            sends=[
                OutgoingMessage(sender=alice, conversation_id=group.pk, body=f"m{n}", client_id=f"g{n}")
                for n in range(2)
            ]
        )
    assert sorted(uid for uid, _ in pushes) == sorted([alice.pk, bob.pk, carol.pk] * 2)
    for reader in (alice, bob, carol):
        frames = [orjson.loads(push["text"]) for uid, push in pushes if uid == reader.pk]
        assert [frame["seq"] for frame in frames] == [push["seq"] for uid, push in pushes if uid == reader.pk]
        replayed = replay_batch(viewer=reader, after=frames[0]["seq"] - 1, up_to=frames[-1]["seq"])
        assert frames == replayed


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server that drops its connection: PostgreSQL's")
def test_a_connection_the_server_dropped_costs_no_message(alice, bob, befriend):
    """The writer does not check its connection before a batch (chat.writer): a connection the server
    dropped (a restart, an idle timeout) fails one attempt, and the send is stored on a new
    connection and answered as any other."""
    import asyncio
    import time

    import psycopg
    from asgiref.sync import async_to_sync
    from channels.db import database_sync_to_async

    from chat import writer

    conversation = befriend(alice, bob)
    settings = connection.settings_dict
    server = {"dbname": settings["NAME"], "host": settings["HOST"], "port": settings["PORT"], "user": settings["USER"]}

    def drop(pid: int) -> None:
        with psycopg.connect(**server, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            deadline = time.monotonic() + 10
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                assert time.monotonic() < deadline, "the backend outlived its termination"
                time.sleep(0.02)

    async def scenario():
        batcher = writer.MessageWriter()

        def send(body):
            return batcher.submit(
                OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=body, client_id=body)
            )

        try:
            first = await send("before")
            pid = await database_sync_to_async(lambda: connection.connection.info.backend_pid)()
            await asyncio.to_thread(drop, pid)
            second = await send("after")
        finally:
            batcher.task.cancel()
        return first, second, pid

    first, second, pid = async_to_sync(scenario)()
    assert first[1] is None and second[1] is None, (first, second)
    assert second[0]["body"] == "after"
    assert list(Message.objects.filter(conversation=conversation).values_list("body", flat=True)) == ["before", "after"]
    assert connection.connection.info.backend_pid != pid


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_threads_close_connections")
def test_a_send_after_a_quiet_spell_goes_on_the_same_connection_unchecked(alice, bob, befriend, monkeypatch):
    """Other hops check a kept connection when it has been idle for HEALTHY_FOR, and close it past
    CONN_MAX_AGE (common.hops); the writer does neither (chat.writer). On PostgreSQL the check is a
    `SELECT 1` round trip of its own, which every send after a quiet second paid before its own two,
    and a new connection about 7 ms, which the first send after a quiet minute paid."""
    import asyncio

    from asgiref.sync import async_to_sync
    from django.db.backends.signals import connection_created

    from chat import writer
    from common import hops

    conversation = befriend(alice, bob)
    monkeypatch.setattr(hops, "HEALTHY_FOR", 0.05)
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0.05)
    opened = []

    def count_opened(sender, connection, **kwargs):
        opened.append(connection.alias)

    checks = []
    wrapper_class = type(connections["default"])
    checked = wrapper_class.is_usable
    monkeypatch.setattr(wrapper_class, "is_usable", lambda wrapper: checks.append(wrapper.alias) or checked(wrapper))

    async def scenario():
        batcher = writer.MessageWriter()
        answers, opened_before = [], []
        try:
            for body in ("first", "after a quiet spell", "and another"):
                send = OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=body, client_id=body)
                opened_before.append(len(opened))
                answers.append(await batcher.submit(send))
                await asyncio.sleep(0.2)  # quiet for longer than HEALTHY_FOR and CONN_MAX_AGE
        finally:
            batcher.task.cancel()
        return answers, opened_before

    connection_created.connect(count_opened)
    try:
        answers, opened_before = async_to_sync(scenario)()
    finally:
        connection_created.disconnect(count_opened)
    assert [(answer["body"], error) for answer, error in answers] == [
        ("first", None),
        ("after a quiet spell", None),
        ("and another", None),
    ]
    assert checks == []
    # The first send may open the writer's connection; the later ones keep it.
    assert len(opened) == opened_before[1], opened


def test_a_batch_of_many_rows_stores_what_a_small_one_does(client_for, alice, make_user, befriend):
    """Past a few rows, PostgreSQL gets a statement's values as one array per column
    (common.pipelined.as_arrays): the same messages, events, read marks and index entries, and
    bodies with quotes, backslashes and braces (an array literal's own characters) intact."""
    from chat.models import Conversation, Membership

    people = [make_user(username=f"reader{n}") for n in range(6)]
    chats = [befriend(alice, person) for person in people]
    bodies = [f'otter {n}: "quoted", back\\slash, {{braces}}, NULL' for n in range(6)]
    sends = [
        OutgoingMessage(sender=alice, conversation_id=chat.pk, body=body, client_id=f"many{n}")
        for n, (chat, body) in enumerate(zip(chats, bodies, strict=True))
    ]
    sends.append(OutgoingMessage(sender=people[0], conversation_id=chats[0].pk, body="otter back", client_id="r"))

    results = message_send_many(sends=sends)

    assert [r.error for r in results] == [None] * 7
    ids = [r.message.pk for r in results]
    assert [Message.objects.get(pk=pk).body for pk in ids] == [*bodies, "otter back"]
    for chat, pk in zip(chats, ids, strict=False):
        last = ids[6] if chat == chats[0] else pk
        assert Conversation.objects.get(pk=chat.pk).last_message_id == last
        assert Membership.objects.get(conversation=chat, user=alice).last_read_message_id == pk
    assert Membership.objects.get(conversation=chats[0], user=people[0]).last_read_message_id == ids[6]
    # Each reader hears of their message; alice of all seven, numbered one after another.
    for person, pk in zip(people[1:], ids[1:6], strict=True):
        assert [e.ref["message"] for e in Event.objects.filter(user=person, type="message.new")] == [pk]
    alice_events = list(Event.objects.filter(user=alice, type="message.new").order_by("seq"))
    assert sorted(e.ref["message"] for e in alice_events) == sorted(ids)
    assert [e.seq for e in alice_events] == list(range(alice_events[0].seq, alice_events[0].seq + 7))
    answer = client_for(alice).get("/api/chat/search/", {"q": "otter"}).json()
    assert sorted(hit["id"] for hit in answer["results"]) == sorted(ids)
