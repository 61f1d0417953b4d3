"""chat.writer on SQLite: a small batch is stored on the event loop, which never waits for the write lock."""

import asyncio
import threading

import pytest
from django.db import connection, transaction

from chat import services, writer
from chat.models import Message
from chat.services import OutgoingMessage
from realtime.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_small_batch_is_stored_on_the_loop_on_sqlite_and_in_the_writers_thread_otherwise(
    alice, bob, befriend, monkeypatch
):
    conversation = befriend(alice, bob)
    real = services.message_send_many
    stored_in: list[tuple[int, bool]] = []

    def recorded(*, sends, **kwargs):
        stored_in.append((len(sends), threading.current_thread() is threading.main_thread()))
        return real(sends=sends, **kwargs)

    monkeypatch.setattr(services, "message_send_many", recorded)

    def send(body: str, admit=None) -> OutgoingMessage:
        return OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=body, client_id=body, admit=admit)

    async def scenario():
        batcher = writer.MessageWriter()
        try:
            alone = await batcher.submit(send("alone"))
            # Submitted before the writer runs: one batch, one more than the loop takes.
            many = await asyncio.gather(*(batcher.submit(send(f"many{n}")) for n in range(writer.LOOP_BATCH_MAX + 1)))
            # A send with a count to settle first (Redis's) could wait for the loop: never on it.
            counted = await batcher.submit(send("counted", admit=lambda: None))
        finally:
            batcher.task.cancel()
        return [alone, *many, counted]

    answers = asyncio.run(scenario())  # the loop runs in this (the main) thread

    assert [error for _, error in answers] == [None] * (writer.LOOP_BATCH_MAX + 3)
    bodies = ["alone", *(f"many{n}" for n in range(writer.LOOP_BATCH_MAX + 1)), "counted"]
    assert [rendered["body"] for rendered, _ in answers] == bodies
    assert list(Message.objects.order_by("id").values_list("body", flat=True)) == bodies
    on_sqlite = connection.vendor == "sqlite"
    assert stored_in == [(1, on_sqlite), (writer.LOOP_BATCH_MAX + 1, False), (1, False)]


def test_a_send_waits_for_a_lock_held_elsewhere_without_stopping_the_loop_and_is_stored_once(alice, bob, befriend):
    """Another connection holds the lock the send needs (on SQLite the write lock, as a REST request's
    transaction does; on PostgreSQL the messages' table). The event loop goes on meanwhile: on
    SQLite its attempt gives up at once and the writer's thread waits instead. Once the lock is
    let go, the send is stored and heard of once, and the next is stored as any other."""
    conversation = befriend(alice, bob)
    locked, let_go = threading.Event(), threading.Event()
    held_past_patience = []

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():  # on SQLite, BEGIN IMMEDIATE: the write lock from here
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(f"LOCK TABLE {Message._meta.db_table} IN SHARE MODE")
                locked.set()
                # Let go when the loop says so, or, if the loop stopped (waiting for this lock
                # itself), after a while: SQLite's own wait is 20 s.
                held_past_patience.append(not let_go.wait(timeout=5))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert locked.wait(timeout=10)

    def send(body: str) -> OutgoingMessage:
        return OutgoingMessage(sender=alice, conversation_id=conversation.pk, body=body, client_id=body)

    async def scenario():
        batcher = writer.MessageWriter()
        try:
            stored = batcher.submit(send("held"))
            # The loop keeps running other work while the send waits (blocked in SQLite's busy
            # handler, it would come back here only after the holder lost patience).
            for _ in range(20):
                await asyncio.sleep(0.01)
                assert not stored.done()
            let_go.set()
            held = await asyncio.wait_for(stored, timeout=30)
            # The connection that gave up is as good as before for the next send.
            return held, await asyncio.wait_for(batcher.submit(send("next")), timeout=30)
        finally:
            batcher.task.cancel()

    try:
        (rendered, error), next_answer = asyncio.run(scenario())
    finally:
        let_go.set()
        holder.join(timeout=30)

    assert held_past_patience == [False]
    assert error is None and rendered["body"] == "held"
    assert next_answer[1] is None and next_answer[0]["body"] == "next"
    message, following = Message.objects.filter(conversation=conversation).order_by("id")
    assert (message.body, following.body) == ("held", "next")
    heard = Event.objects.filter(type="message.new", ref__message=message.pk)
    assert sorted(heard.values_list("user_id", flat=True)) == sorted([alice.pk, bob.pk])


def test_a_client_id_sent_before_is_answered_with_its_first_message_and_stored_once(alice, bob, befriend):
    """A send retried after its ack was lost: the unique constraint refuses its client_id. On the loop
    the batch keeps no savepoint to go back to, so the writer's thread redoes it, and there the retry
    finds the first message. The sender gets that message back; nobody hears of it twice."""
    conversation = befriend(alice, bob)
    first, created = services.message_send(sender=alice, conversation=conversation, body="hello", client_id="again")
    assert created

    async def scenario():
        batcher = writer.MessageWriter()
        try:
            again = OutgoingMessage(sender=alice, conversation_id=conversation.pk, body="hello", client_id="again")
            return await asyncio.wait_for(batcher.submit(again), timeout=30)
        finally:
            batcher.task.cancel()

    rendered, error = asyncio.run(scenario())

    assert error is None and rendered["id"] == first.pk
    assert list(Message.objects.filter(conversation=conversation).values_list("pk", flat=True)) == [first.pk]
    heard = Event.objects.filter(type="message.new").values_list("user_id", "ref")
    assert sorted(heard) == sorted([(alice.pk, {"message": first.pk}), (bob.pk, {"message": first.pk})])
