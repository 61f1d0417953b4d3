"""Mentions: every @name is a link, but only the first few notify, after the write commits,
and mentions of people who do not follow the author draw on an hourly budget."""

import time

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Block, User
from microblog.models import Follow, Mute, Notification

pytestmark = pytest.mark.django_db

MANY = 400


def _people(count: int, prefix: str = "m") -> list[User]:
    """`count` people with three-character names (bulk: hashing 400 passwords would take the test's time)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    names = [f"{prefix}{digits[n // 36]}{digits[n % 36]}" for n in range(count)]
    User.objects.bulk_create([User(username=name, display_name=name) for name in names])
    return list(User.objects.filter(username__in=names).order_by("id"))


def _mentioning(people: list[User]) -> str:
    return " ".join(f"@{person.username}" for person in people)


def _mentioned_ids() -> list[int]:
    return list(Notification.objects.filter(kind="mention").order_by("id").values_list("recipient_id", flat=True))


def test_a_post_naming_four_hundred_people_notifies_the_first_twenty_after_commit(
    client_for, alice, django_capture_on_commit_callbacks, settings
):
    people = _people(MANY)
    Follow.objects.bulk_create([Follow(follower=person, followee=alice) for person in people])
    body = _mentioning(people)
    assert len(body) <= 2000
    api = client_for(alice)
    api.post("/api/posts/", {"body": "warm up"}, format="json")  # the session's first queries
    started = time.perf_counter()
    with django_capture_on_commit_callbacks() as fan_out:
        response = api.post("/api/posts/", {"body": body}, format="json")
        inside = _mentioned_ids()
    written = time.perf_counter() - started
    for callback in fan_out:
        callback()
    total = time.perf_counter() - started
    print(
        f"\nmentions: {len(_mentioned_ids())} of {MANY} notified; "
        f"write {written * 1000:.0f} ms, with the fan-out after commit {total * 1000:.0f} ms"
    )
    assert response.status_code == 201
    assert inside == []  # nothing notified inside the write's transaction
    assert len(response.json()["mentions"]) == MANY  # all of them stay links
    assert response.json()["html"].count('class="mention"') == MANY
    notified = [person.pk for person in people[: settings.MENTIONS_NOTIFIED_PER_POST]]
    assert _mentioned_ids() == notified and len(notified) == 20
    inbox = client_for(people[0]).get("/api/notifications/").json()["results"]
    assert [(n["kind"], n["post"]["id"]) for n in inbox] == [("mention", response.json()["id"])]
    assert client_for(people[-1]).get("/api/notifications/").json()["results"] == []


def test_the_write_costs_the_same_queries_for_forty_mentions_as_for_four_hundred(
    client_for, alice, django_capture_on_commit_callbacks
):
    api = client_for(alice)
    api.post("/api/posts/", {"body": "warm up"}, format="json")  # the session's first queries
    counts = []
    for group, prefix in ((40, "a"), (MANY, "b")):
        body = _mentioning(_people(group, prefix))
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            assert api.post("/api/posts/", {"body": body}, format="json").status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@override_settings(MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR=5)
def test_mentions_of_people_who_do_not_follow_the_author_draw_on_an_hourly_budget(
    client_for, alice, django_capture_on_commit_callbacks
):
    strangers, followers = _people(12, "s"), _people(3, "f")
    Follow.objects.bulk_create([Follow(follower=person, followee=alice) for person in followers])
    api = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/posts/", {"body": _mentioning(strangers[:8] + followers[:1])}, format="json")
    assert first.status_code == 201
    assert set(_mentioned_ids()) == {p.pk for p in strangers[:5]} | {followers[0].pk}
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post("/api/posts/", {"body": _mentioning(strangers[8:] + followers[1:])}, format="json")
    assert second.status_code == 201 and len(second.json()["mentions"]) == 6  # still links
    assert set(_mentioned_ids()) == {p.pk for p in strangers[:5]} | {p.pk for p in followers}


def test_a_mention_notifies_nobody_who_may_not_see_the_post_or_has_shut_the_author_out(
    client_for, alice, django_capture_on_commit_callbacks
):
    fan, muter, blocked, stranger = _people(4, "x")
    for person in (fan, muter, blocked):
        Follow.objects.create(follower=person, followee=alice)
    Mute.objects.create(user=muter, muted=alice)
    Block.objects.create(blocker=alice, blocked=blocked)
    api = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/posts/",
            {"body": f"{_mentioning([fan, muter, blocked, stranger])} @alice", "visibility": "followers"},
            format="json",
        )
    assert response.status_code == 201
    assert _mentioned_ids() == [fan.pk]
