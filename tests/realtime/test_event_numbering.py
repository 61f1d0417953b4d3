"""realtime.services.events_publish_many: each user's events numbered one after another, stored, and
pushed after commit with the seqs stored (on PostgreSQL the database numbers them, in one statement)."""

import orjson
import pytest
from django.db import transaction

from accounts.models import User
from realtime.models import Event, UserStream
from realtime.services import Publication, events_publish_many, pushes_deferred

pytestmark = pytest.mark.django_db(transaction=True)


def _last_seq(user) -> int:
    return UserStream.objects.get(user=user).last_seq


def _stored(user) -> list[tuple[int, str, dict]]:
    return list(Event.objects.filter(user=user).order_by("seq").values_list("seq", "type", "ref"))


def test_each_users_events_follow_their_last_seq_in_list_order_and_are_pushed_so(alice, bob):
    before = _last_seq(alice), _last_seq(bob)
    with pushes_deferred() as pushes, transaction.atomic():
        events_publish_many(
            [
                Publication([alice.pk, bob.pk], "message.new", {"message": 1}, {"n": 1}),
                Publication([alice.pk], "message.new", {"message": 2}, lambda uid: {"n": 2, "for": uid}),
            ]
        )
        assert pushes == []  # not before the commit
    assert (_last_seq(alice), _last_seq(bob)) == (before[0] + 2, before[1] + 1)
    assert _stored(alice)[-2:] == [
        (before[0] + 1, "message.new", {"message": 1}),
        (before[0] + 2, "message.new", {"message": 2}),
    ]
    assert _stored(bob)[-1:] == [(before[1] + 1, "message.new", {"message": 1})]
    pushed = [(uid, message["seq"], orjson.loads(message["text"])) for uid, message in pushes]
    assert sorted(pushed, key=lambda p: (p[0], p[1])) == sorted(
        [
            (alice.pk, before[0] + 1, {"type": "message.new", "seq": before[0] + 1, "n": 1}),
            (alice.pk, before[0] + 2, {"type": "message.new", "seq": before[0] + 2, "n": 2, "for": alice.pk}),
            (bob.pk, before[1] + 1, {"type": "message.new", "seq": before[1] + 1, "n": 1}),
        ],
        key=lambda p: (p[0], p[1]),
    )


def test_a_user_made_without_a_stream_gets_one_numbered_from_one(alice):
    # bulk_create sends no post_save signal, so no stream row is made for this user.
    (quiet,) = User.objects.bulk_create([User(username="quiet")])
    assert not UserStream.objects.filter(user=quiet).exists()
    with pushes_deferred() as pushes, transaction.atomic():
        events_publish_many(
            [
                Publication([quiet.pk, alice.pk], "contact.added", {"n": 1}, {"n": 1}),
                Publication([quiet.pk], "contact.added", {"n": 2}, {"n": 2}),
            ]
        )
    assert _last_seq(quiet) == 2
    assert [seq for seq, _, _ in _stored(quiet)] == [1, 2]
    assert sorted(message["seq"] for uid, message in pushes if uid == quiet.pk) == [1, 2]


def test_events_rolled_back_with_their_transaction_are_neither_stored_nor_pushed_nor_counted(alice):
    before = _last_seq(alice)

    @transaction.atomic
    def publish_then_fail():
        events_publish_many([Publication([alice.pk], "message.new", {"message": 1}, {"n": 1})])
        raise RuntimeError("the caller's transaction fails after publishing")

    with pushes_deferred() as pushes, pytest.raises(RuntimeError):
        publish_then_fail()
    assert pushes == []
    assert _last_seq(alice) == before
    assert not Event.objects.filter(user=alice).exists()
