"""Chat pages without JavaScript: the forms post to the same services as the API."""

import pytest

from chat.models import Message

pytestmark = pytest.mark.django_db


def test_contacts_page_request_accept_and_group(client, alice, bob, make_user):
    carol = make_user(username="carol")
    client.force_login(alice)
    assert (
        "Request sent."
        in client.post("/contacts/", {"action": "request", "username": "bob"}, follow=True).content.decode()
    )
    assert "No such user." in client.post("/contacts/", {"action": "request", "username": "nobody"}).content.decode()
    client.force_login(bob)
    incoming = client.get("/contacts/").context["incoming"]
    response = client.post("/contacts/", {"action": "accept", "request": incoming[0].pk}, follow=True)
    assert "You are now contacts." in response.content.decode()
    client.force_login(carol)
    client.post("/contacts/", {"action": "request", "username": "bob"})
    client.force_login(bob)
    client.post("/contacts/", {"action": "accept", "request": client.get("/contacts/").context["incoming"][0].pk})
    group = client.post("/contacts/", {"action": "group", "title": "Trio", "members": ["alice", "carol"]}, follow=True)
    assert group.status_code == 200 and "Trio" in group.content.decode()


def test_profile_buttons_bridge_to_chat(client, alice, bob, befriend, make_user):
    conversation = befriend(alice, bob)
    stranger = make_user(username="zoe")
    client.force_login(alice)
    profile = client.get("/u/bob/").content.decode()
    assert "/chat/with/bob/" in profile and "Add contact" not in profile
    assert client.get("/chat/with/bob/").url == f"/chat/{conversation.pk}/"
    assert "Add contact" in client.get(f"/u/{stranger.username}/").content.decode()
    assert client.get(f"/chat/with/{stranger.username}/").url == "/contacts/"
    assert client.get("/chat/with/bo%00b/").url == "/contacts/"


def test_sending_from_the_page_without_javascript(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    client.force_login(alice)
    response = client.post(f"/chat/{conversation.pk}/", {"body": "no JS needed"}, follow=True)
    assert "no JS needed" in response.content.decode()
    assert Message.objects.get().sender == alice
    assert client.post(f"/chat/{conversation.pk}/", {"body": "   "}).status_code == 400
    client.force_login(bob)
    page = client.get(f"/chat/{conversation.pk}/")
    assert page.context["last_seq"] >= 1
    assert client.get("/chat/999999/").status_code == 404


def test_contact_requests_without_javascript_badge_links_and_remove(client, alice, bob):
    client.force_login(alice)
    client.post("/contacts/", {"action": "request", "username": "bob"})
    client.force_login(bob)
    page = client.get("/contacts/").content.decode()
    # The nav's badge counts the request, with words for screen readers.
    assert '<span class="badge" id="contact-badge">1</span>' in page
    assert '<span class="visually-hidden" id="contact-badge-text">request waiting</span>' in page
    assert 'href="/u/alice/"' in page
    request = client.get("/contacts/").context["incoming"][0]
    client.post("/contacts/", {"action": "accept", "request": request.pk})
    page = client.get("/contacts/").content.decode()
    assert '<span class="badge" id="contact-badge"></span>' in page
    assert 'href="/chat/with/alice/">Message</a>' in page
    # Remove asks in a <dialog> with JavaScript; without it, the form posts at once.
    assert 'data-confirm="Remove Alice (@alice) from your contacts?"' in page
    removed = client.post("/contacts/", {"action": "remove", "username": "alice"}, follow=True)
    assert "Contact removed." in removed.content.decode()
    assert not removed.context["contacts"]


def test_a_quote_from_the_form_and_day_separators(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    client.force_login(bob)
    client.post(f"/chat/{conversation.pk}/", {"body": "Lunch at noon?"})
    question = Message.objects.get(body="Lunch at noon?")
    client.force_login(alice)
    client.post(f"/chat/{conversation.pk}/", {"body": "Yes", "reply_to": str(question.pk)})
    assert Message.objects.get(body="Yes").reply_to_id == question.pk
    page = client.get(f"/chat/{conversation.pk}/").content.decode()
    assert '<bdi class="name">Bob</bdi>: <span class="quote-text">Lunch at noon?</span>' in page
    assert page.count('<li class="day-separator"><span>Today</span></li>') == 1
    assert "<h2" in page and "Pick a chat" not in page
    assert "Pick a chat" in client.get("/chat/").content.decode()
