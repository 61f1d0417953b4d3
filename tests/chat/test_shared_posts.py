"""A post shared into a chat keeps its visibility: each member sees the card they may see."""

import json

import pytest

from accounts.services import token_for
from microblog.services import post_create, post_delete, user_follow

from .wsclient import SocketClient, rest_call

SECRET = "followers-only canary 7f3a"


def sockets_for(server, *users) -> dict[str, SocketClient]:
    """A live socket per user, by username."""
    return {user.username: SocketClient(server.ws_url, token_for(user=user).key) for user in users}


@pytest.fixture
def group(alice, bob, make_user, befriend):
    carol = make_user(username="carol")
    befriend(alice, bob)
    befriend(alice, carol)
    user_follow(follower=bob, followee=alice)  # bob follows alice; carol does not
    from chat.services import conversation_create

    conversation, _ = conversation_create(creator=alice, usernames=["bob", "carol"], title="Friends")
    return conversation, carol


@pytest.mark.django_db
def test_each_member_sees_the_card_they_may_see(client_for, alice, bob, group):
    conversation, carol = group
    post = post_create(author=alice, body=SECRET, visibility="followers")
    url = f"/api/conversations/{conversation.pk}/messages/"
    sent = client_for(alice).post(url, {"shared_post": post.pk}, format="json")
    assert sent.status_code == 201
    assert sent.data["body"] == "" and sent.data["shared_post"]["body"] == SECRET

    bob_view = client_for(bob).get(url).json()["results"][-1]["shared_post"]
    assert (bob_view["unavailable"], bob_view["body"], bob_view["author"]["username"]) == (False, SECRET, "alice")
    carol_page = client_for(carol).get(url)
    assert carol_page.json()["results"][-1]["shared_post"] == {"id": post.pk, "unavailable": True}
    assert SECRET not in carol_page.content.decode()
    assert SECRET not in client_for(carol).get("/api/conversations/").content.decode()

    post_delete(actor=alice, post=post)
    assert client_for(bob).get(url).json()["results"][-1]["shared_post"]["unavailable"] is True


@pytest.mark.django_db
def test_a_post_the_sender_may_not_see_cannot_be_shared(client_for, alice, bob, befriend, make_user):
    conversation = befriend(alice, bob)
    stranger = make_user(username="zoe")
    private = post_create(author=stranger, body="only my followers", visibility="followers")
    url = f"/api/conversations/{conversation.pk}/messages/"
    for shared in (private.pk, 10**9, "x"):
        response = client_for(alice).post(url, {"body": "look", "shared_post": shared}, format="json")
        assert response.status_code == 400
    assert client_for(alice).get(url).json()["results"] == []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_text_never_reaches_the_socket_of_a_member_who_may_not_see_it(daphne_server, alice, bob, group):
    conversation, carol = group
    post = post_create(author=alice, body=SECRET, visibility="followers")
    sockets = sockets_for(daphne_server, alice, bob, carol)
    raw_for_carol = []
    try:
        sockets["alice"].send(
            type="message.send",
            conversation=conversation.pk,
            body="read this",
            client_id="share-1",
            shared_post=post.pk,
        )
        assert sockets["alice"].expect("message.ack")["message"]["shared_post"]["body"] == SECRET
        assert sockets["bob"].expect("message.new")["message"]["shared_post"]["body"] == SECRET
        frame = sockets["carol"].socket.recv(timeout=5)
        raw_for_carol.append(frame)
        assert json.loads(frame)["message"]["shared_post"] == {"id": post.pk, "unavailable": True}
        sockets["carol"].send(type="resume", after=0)
        while (text := sockets["carol"].socket.recv(timeout=5)) and json.loads(text)["type"] != "resume.done":
            raw_for_carol.append(text)
        assert len(raw_for_carol) > 1
        assert not any(SECRET in text for text in raw_for_carol)
    finally:
        for client in sockets.values():
            client.close()


@pytest.mark.django_db
def test_share_from_the_post_page_into_a_chat(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    post = post_create(author=bob, body="Sunrise at the harbour #photo")
    client.force_login(alice)
    assert f"/chat/share/?post={post.pk}" in client.get(f"/p/{post.pk}/").content.decode()
    share = client.get(f"/chat/share/?post={post.pk}")
    assert share.status_code == 200 and "Send to Bob" in share.content.decode()
    sent = client.post(f"/chat/{conversation.pk}/", {"shared_post": post.pk, "body": ""}, follow=True)
    page = sent.content.decode()
    assert "Sunrise at the harbour" in page and "card-post" in page
    assert client.get("/chat/share/?post=999999").status_code == 404


def frames_until(client: SocketClient, frame_type: str) -> list[str]:
    """Every raw frame up to and including the first of `frame_type`."""
    raw = []
    while True:
        raw.append(client.socket.recv(timeout=5))
        if json.loads(raw[-1])["type"] == frame_type:
            return raw


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_cards_update_live_and_only_members_who_may_see_the_post_get_its_counts(daphne_server, alice, bob, group):
    conversation, carol = group
    post = post_create(author=alice, body=SECRET, visibility="followers")
    sockets = sockets_for(daphne_server, alice, bob, carol)
    try:
        for client in sockets.values():  # connected and counted online
            client.send(type="ping")
            client.expect("pong")
        rest_call(
            daphne_server, alice, "POST", f"/api/conversations/{conversation.pk}/messages/", {"shared_post": post.pk}
        )
        rest_call(daphne_server, bob, "POST", f"/api/posts/{post.pk}/like/")
        for name in ("alice", "bob"):
            card = sockets[name].expect("shared_post.updated")["shared_post"]
            assert (card["id"], card["like_count"], card["body"]) == (post.pk, 1, SECRET)
        carol_saw = frames_until(sockets["carol"], "shared_post.updated")
        assert json.loads(carol_saw[-1])["shared_post"] == {"id": post.pk, "unavailable": True}

        rest_call(daphne_server, bob, "POST", "/api/posts/", {"body": "count me in", "reply_to": post.pk})
        for name in ("alice", "bob"):
            assert sockets[name].expect("shared_post.updated")["shared_post"]["reply_count"] == 1
        carol_saw += frames_until(sockets["carol"], "shared_post.updated")

        rest_call(daphne_server, alice, "DELETE", f"/api/posts/{post.pk}/")
        assert sockets["bob"].expect("shared_post.updated")["shared_post"] == {"id": post.pk, "unavailable": True}
        carol_saw += frames_until(sockets["carol"], "shared_post.updated")
        assert not any(SECRET in text or "like_count" in text for text in carol_saw)
    finally:
        for client in sockets.values():
            client.close()


@pytest.mark.django_db
def test_a_card_push_costs_the_same_few_queries_for_3_or_12_online_readers(alice, make_user, monkeypatch):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Contact
    from chat import cards
    from chat.services import conversation_create, message_send

    sent = []
    monkeypatch.setattr(cards, "ephemeral_send", lambda *, user_ids, frame: sent.append((set(user_ids), frame)))
    costs = []
    for size in (3, 12):
        people = [make_user() for _ in range(size)]
        Contact.objects.bulk_create([Contact(user=person, contact=alice) for person in people])
        conversation, _ = conversation_create(creator=alice, usernames=[p.username for p in people], title="Big")
        post = post_create(author=alice, body="for my contacts", visibility="contacts")
        message_send(sender=alice, conversation=conversation, body="", shared_post=post.pk)
        stranger = people[0]
        Contact.objects.filter(user=stranger).delete()  # no longer a contact: may not see it now
        for person in [alice, *people]:
            cache.set(f"presence:count:{person.pk}", 1)
        sent.clear()
        with CaptureQueriesContext(connection) as queries:
            cards.shared_cards_push([post.pk])
        costs.append(len(queries))
        shown, hidden = sent
        assert shown[0] == {alice.pk, *(p.pk for p in people[1:])} and shown[1]["shared_post"]["body"]
        assert hidden == ({stranger.pk}, {"type": "shared_post.updated", "shared_post": cards.unavailable(post.pk)})
    # Members and posts, their users, visibility (one UNION), the posts: the same for 3 or 12.
    assert costs[0] == costs[1] == 4, costs
