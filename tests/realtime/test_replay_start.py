"""A resume's plan and its first page come from one statement (realtime.selectors.replay_start),
and answer as the plan and the page did when they were two: the page up to the user's seq, or
nothing when nothing was missed, or a resync when asked from the future or from before what is kept."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from realtime.models import Event
from realtime.selectors import replay_start
from realtime.services import events_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_events(alice):
    # A type without a renderer replays its stored ref: the only statement is the replay's own.
    for n in range(1, 6):
        events_publish(user_ids=[alice.pk], event_type="test.note", ref={"n": n}, frame={"n": n})
    return alice


def test_the_plan_and_the_first_page_are_one_statement(five_events):
    with CaptureQueriesContext(connection) as statements:
        plan, frames = replay_start(viewer=five_events, after=1, limit=3)
    assert len(statements) == 1
    assert (plan.last, plan.resync) == (5, False)
    assert frames == [{"n": n, "type": "test.note", "seq": n} for n in (2, 3, 4)]


def test_a_page_stops_at_the_users_seq(five_events):
    plan, frames = replay_start(viewer=five_events, after=3, limit=100)
    assert (plan.last, plan.resync) == (5, False)
    assert [frame["seq"] for frame in frames] == [4, 5]


def test_nothing_missed_is_an_empty_page(five_events):
    plan, frames = replay_start(viewer=five_events, after=5, limit=100)
    assert (plan.last, plan.resync, frames) == (5, False, [])


def test_a_seq_from_the_future_resyncs(five_events):
    plan, frames = replay_start(viewer=five_events, after=9, limit=100)
    assert (plan.last, plan.resync, frames) == (5, True, [])


def test_a_seq_before_what_is_kept_resyncs(five_events):
    Event.objects.filter(user=five_events, seq__lte=2).delete()
    plan, frames = replay_start(viewer=five_events, after=1, limit=100)
    assert (plan.last, plan.resync, frames) == (5, True, [])
    plan, frames = replay_start(viewer=five_events, after=2, limit=100)
    assert (plan.last, plan.resync) == (5, False)
    assert [frame["seq"] for frame in frames] == [3, 4, 5]


def test_a_user_who_never_had_an_event(bob):
    plan, frames = replay_start(viewer=bob, after=0, limit=100)
    assert (plan.last, plan.resync, frames) == (0, False, [])


def test_a_gap_after_the_seq_asked_for_replays_what_is_kept(five_events):
    # Events 2 to 5 gone while 1 is kept: nothing between `after` and the last seq to replay.
    Event.objects.filter(user=five_events, seq__gte=2).delete()
    plan, frames = replay_start(viewer=five_events, after=1, limit=100)
    assert (plan.last, plan.resync, frames) == (5, False, [])
