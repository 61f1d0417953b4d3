"""A declined contact request holds off the same person asking again for a while.

The repeat is answered 429 with Retry-After and a reason that does not say "declined"; the
person who declined hears nothing and finds no new request. After the hold it may be sent.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ContactRequest
from realtime.models import Event

pytestmark = pytest.mark.django_db


def ask(client, username: str):
    return client.post("/api/contact-requests/", {"to": username}, format="json")


def test_a_declined_request_cannot_be_repeated_at_once(client_for, alice, bob, settings):
    settings.CONTACT_REQUEST_DECLINE_HOLD = timedelta(days=7)
    as_alice, as_bob = client_for(alice), client_for(bob)
    first = ask(as_alice, "bob").json()
    assert as_bob.post(f"/api/contact-requests/{first['id']}/decline/").status_code == 200
    notified = Event.objects.filter(user=bob, type="contact.request").count()

    again = ask(as_alice, "bob")
    assert again.status_code == 429
    assert again.json()["code"] == "rate_limited" and "declin" not in again.json()["detail"].lower()
    assert 6 * 86400 < int(again["Retry-After"]) <= 7 * 86400
    assert as_bob.get("/api/contact-requests/?direction=incoming").json() == []
    assert Event.objects.filter(user=bob, type="contact.request").count() == notified

    # bob may still ask alice (the hold is on the one who was declined), which makes them contacts.
    crossing = ask(as_bob, "alice")
    assert crossing.status_code == 201 and crossing.json()["status"] == "pending"


def test_the_contacts_page_answers_a_held_off_repeat_429_with_retry_after(client, client_for, alice, bob, settings):
    settings.CONTACT_REQUEST_DECLINE_HOLD = timedelta(days=7)
    client.force_login(alice)
    assert client.post("/contacts/", {"action": "request", "username": "bob"}).status_code == 302
    request = ContactRequest.objects.get(from_user=alice)
    assert client_for(bob).post(f"/api/contact-requests/{request.pk}/decline/").status_code == 200

    again = client.post("/contacts/", {"action": "request", "username": "bob"})
    assert again.status_code == 429
    assert 6 * 86400 < int(again["Retry-After"]) <= 7 * 86400
    assert "declin" not in again.content.decode().lower()
    assert ContactRequest.objects.filter(from_user=alice).count() == 1


def test_after_the_hold_the_request_may_be_sent_again(client_for, alice, bob, settings):
    settings.CONTACT_REQUEST_DECLINE_HOLD = timedelta(days=7)
    as_alice = client_for(alice)
    first = ask(as_alice, "bob").json()
    client_for(bob).post(f"/api/contact-requests/{first['id']}/decline/")
    ContactRequest.objects.filter(pk=first["id"]).update(responded_at=timezone.now() - timedelta(days=7, seconds=1))
    again = ask(as_alice, "bob")
    assert again.status_code == 201 and again.json()["status"] == "pending"


def test_a_pending_request_from_the_other_side_is_still_accepted_by_asking(client_for, alice, bob):
    """Held off or not, asking someone who asked you accepts their request."""
    as_alice, as_bob = client_for(alice), client_for(bob)
    first = ask(as_alice, "bob").json()
    as_bob.post(f"/api/contact-requests/{first['id']}/decline/")
    ask(as_bob, "alice")
    accepted = ask(as_alice, "bob")
    assert accepted.status_code == 201 and accepted.json()["status"] == "accepted"


def test_a_bad_direction_is_refused_in_the_one_error_shape(client_for, alice):
    answer = client_for(alice).get("/api/contact-requests/?direction=sideways")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid"
