"""Events are kept for the retention period; a client resuming from before it must resync."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from realtime.models import Event
from realtime.selectors import replay_plan

pytestmark = pytest.mark.django_db


def test_prune_keeps_a_week_and_older_resumes_resync(alice, bob, befriend):
    conversation = befriend(alice, bob)
    from chat.services import message_send

    for n in range(3):
        message_send(sender=alice, conversation=conversation, body=f"m{n}")
    bob_events = Event.objects.filter(user=bob).order_by("seq")
    oldest = bob_events.first()
    Event.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(days=7, minutes=1))
    Event.objects.filter(user=bob).exclude(pk=oldest.pk).update(created_at=timezone.now() - timedelta(days=6))

    call_command("prune_events")

    assert not Event.objects.filter(pk=oldest.pk).exists()
    assert replay_plan(user_id=bob.pk, after=oldest.seq - 1).resync is True
    assert replay_plan(user_id=bob.pk, after=oldest.seq).resync is False
