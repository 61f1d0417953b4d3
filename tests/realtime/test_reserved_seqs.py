"""Seqs asked for before the events that take them (realtime.services.seqs_reserve_asked, chat's send)."""

import pytest
from django.db import transaction

from realtime.models import Event, UserStream
from realtime.services import Publication, events_publish_many, seqs_reserve_asked

pytestmark = pytest.mark.django_db


def _last_seq(user) -> int:
    return UserStream.objects.get(user=user).last_seq


def test_events_take_the_seqs_reserved_for_them(alice, bob):
    before = _last_seq(alice), _last_seq(bob)
    with transaction.atomic():
        reserved = seqs_reserve_asked({alice.pk: 2, bob.pk: 1})
        numbering = events_publish_many(
            [
                Publication([alice.pk, bob.pk], "message.new", {"message": 1}, {"n": 1}),
                Publication([alice.pk], "message.new", {"message": 2}, {"n": 2}),
            ],
            reserved,
        )
    assert numbering == [{alice.pk: before[0] + 1, bob.pk: before[1] + 1}, {alice.pk: before[0] + 2}]
    assert (_last_seq(alice), _last_seq(bob)) == (before[0] + 2, before[1] + 1)
    assert list(Event.objects.filter(user=alice).values_list("seq", flat=True).order_by("seq")) == [
        before[0] + 1,
        before[0] + 2,
    ]


def test_seqs_reserved_for_other_recipients_are_refused_and_nothing_is_stored(alice, bob):
    before = _last_seq(alice), _last_seq(bob)

    @transaction.atomic
    def publish():
        reserved = seqs_reserve_asked({alice.pk: 1})
        events_publish_many([Publication([alice.pk, bob.pk], "message.new", {"message": 1}, {"n": 1})], reserved)

    with pytest.raises(ValueError, match="other recipients"):
        publish()
    assert (_last_seq(alice), _last_seq(bob)) == before
    assert not Event.objects.filter(user__in=[alice, bob]).exists()
