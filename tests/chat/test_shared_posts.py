"""A post shared into a chat keeps its visibility: each member sees the card they may see."""

import json

import pytest

from microblog.services import post_delete, user_follow
from tests.factories import ConversationFactory, PostFactory
from tests.live import Socket, rest

SECRET = "followers-only canary 7f3a"


def sockets_for(server, *users) -> dict[str, Socket]:
    """A live socket per user, by username."""
    return {user.username: Socket.open(server, user) for user in users}


@pytest.fixture
def group(alice, bob, make_user):
    carol = make_user(username="carol")
    user_follow(follower=bob, followee=alice)  # bob follows alice; carol does not
    return ConversationFactory(creator=alice, members=[bob, carol], title="Friends"), carol


@pytest.mark.django_db
def test_each_member_sees_the_card_they_may_see(client_for, alice, bob, group):
    conversation, carol = group
    post = PostFactory(author=alice, body=SECRET, visibility="followers")
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
def test_a_card_counts_only_the_replies_its_reader_may_see(client_for, alice, bob, group, make_user):
    """Issue 14: the card's reply count is each reader's own, so it never announces a hidden reply."""
    from chat.services import block_create

    conversation, carol = group
    post = PostFactory(author=alice, body="what do you think?")
    dave = make_user(username="dave")
    PostFactory(author=dave, body="a reply bob may not see", reply_to=post)
    block_create(user=dave, username="bob")
    url = f"/api/conversations/{conversation.pk}/messages/"
    assert client_for(alice).post(url, {"shared_post": post.pk}, format="json").status_code == 201

    def card_of(user):
        return client_for(user).get(url).json()["results"][-1]["shared_post"]

    assert (card_of(bob)["reply_count"], card_of(carol)["reply_count"]) == (0, 1)
    assert client_for(bob).get(f"/api/posts/{post.pk}/").json()["reply_count"] == 0


@pytest.mark.django_db
def test_a_post_the_sender_may_not_see_cannot_be_shared(client_for, alice, bob, befriend, make_user):
    conversation = befriend(alice, bob)
    stranger = make_user(username="zoe")
    private = PostFactory(author=stranger, body="only my followers", visibility="followers")
    url = f"/api/conversations/{conversation.pk}/messages/"
    for shared in (private.pk, 10**9, "x"):
        response = client_for(alice).post(url, {"body": "look", "shared_post": shared}, format="json")
        assert response.status_code == 400
    assert client_for(alice).get(url).json()["results"] == []


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_text_never_reaches_the_socket_of_a_member_who_may_not_see_it(daphne_server, alice, bob, group):
    conversation, carol = group
    post = PostFactory(author=alice, body=SECRET, visibility="followers")
    sockets = sockets_for(daphne_server, alice, bob, carol)
    try:
        sockets["alice"].send(
            type="message.send",
            conversation=conversation.pk,
            body="read this",
            client_id="share-1",
            shared_post=post.pk,
        )
        # Bob and carol came online after alice; her own message.new comes before the ack or after it.
        acked = sockets["alice"].expect_all(("message.ack", "message.new"), skip=("presence",))
        assert acked["message.ack"]["message"]["shared_post"]["body"] == SECRET
        assert sockets["bob"].expect("message.new", skip=("presence",))["message"]["shared_post"]["body"] == SECRET
        frame = sockets["carol"].expect("message.new", skip=("presence",))
        assert frame["message"]["shared_post"] == {"id": post.pk, "unavailable": True}
        sockets["carol"].send(type="resume", after=0)
        assert len(sockets["carol"].until("resume.done")) > 1  # something replayed, then resume.done
        assert SECRET not in json.dumps(sockets["carol"].frames, ensure_ascii=False)
    finally:
        for client in sockets.values():
            client.close()


@pytest.mark.django_db
def test_share_from_the_post_page_into_a_chat(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    post = PostFactory(author=bob, body="Sunrise at the harbour #photo")
    client.force_login(alice)
    assert f"/chat/share/?post={post.pk}" in client.get(f"/p/{post.pk}/").content.decode()
    share = client.get(f"/chat/share/?post={post.pk}")
    assert share.status_code == 200 and "Send to <bdi>Bob</bdi>" in share.content.decode()
    sent = client.post(f"/chat/{conversation.pk}/", {"shared_post": post.pk, "body": ""}, follow=True)
    page = sent.content.decode()
    assert "Sunrise at the harbour" in page and f'<a class="card-post" href="/p/{post.pk}/">' in page
    assert client.get("/chat/share/?post=999999").status_code == 404


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_cards_update_live_and_only_members_who_may_see_the_post_get_its_counts(daphne_server, alice, bob, group):
    conversation, carol = group
    post = PostFactory(author=alice, body=SECRET, visibility="followers")
    sockets = sockets_for(daphne_server, alice, bob, carol)
    try:
        for client in sockets.values():  # connected and counted online
            client.settle()
        messages = f"/api/conversations/{conversation.pk}/messages/"
        rest(daphne_server, alice, "POST", messages, {"shared_post": post.pk}).json()
        rest(daphne_server, bob, "POST", f"/api/posts/{post.pk}/like/").json()
        # Each member got the shared message first (alice a like notification too, and late presence).
        for name in ("alice", "bob"):
            before = ("presence", "message.new", "notification")
            card = sockets[name].expect("shared_post.updated", skip=before)["shared_post"]
            assert (card["id"], card["like_count"], card["body"]) == (post.pk, 1, SECRET)
        carol_saw = sockets["carol"].until("shared_post.updated")
        assert carol_saw[-1]["shared_post"] == {"id": post.pk, "unavailable": True}

        rest(daphne_server, bob, "POST", "/api/posts/", {"body": "count me in", "reply_to": post.pk}).json()
        for name in ("alice", "bob"):
            card = sockets[name].expect("shared_post.updated", skip=("notification",))["shared_post"]
            assert card["reply_count"] == 1
        carol_saw += sockets["carol"].until("shared_post.updated")

        rest(daphne_server, alice, "DELETE", f"/api/posts/{post.pk}/")
        assert sockets["bob"].expect("shared_post.updated")["shared_post"] == {"id": post.pk, "unavailable": True}
        carol_saw += sockets["carol"].until("shared_post.updated")
        assert not any(SECRET in text or "like_count" in text for text in map(json.dumps, carol_saw))
    finally:
        for client in sockets.values():
            client.close()


@pytest.mark.django_db
def test_a_card_push_costs_the_same_few_queries_for_3_or_12_online_readers(
    alice, make_user, monkeypatch, settings, tmp_path
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Contact
    from chat import cards
    from chat.services import conversation_create, message_send
    from microblog.services import post_create
    from tests.media.ready import ready_media, use_media_root

    use_media_root(settings, tmp_path)

    sent = []
    monkeypatch.setattr(cards, "ephemeral_send", lambda *, user_ids, frame: sent.append((set(user_ids), frame)))
    costs = []
    for size in (3, 12):
        people = [make_user() for _ in range(size)]
        Contact.objects.bulk_create([Contact(user=person, contact=alice) for person in people])
        conversation, _ = conversation_create(creator=alice, usernames=[p.username for p in people], title="Big")
        photo = ready_media(alice)
        post = post_create(author=alice, body="for my contacts", visibility="contacts", media=[photo.pk])
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
        assert shown[1]["shared_post"]["image"]["id"] == photo.pk
        assert hidden == ({stranger.pk}, {"type": "shared_post.updated", "shared_post": cards.unavailable(post.pk)})
    # Members and posts, blocks among them, their users, visibility (one UNION), the posts, their
    # photos: the same for 3 or 12.
    assert costs[0] == costs[1] == 6, costs


@pytest.mark.django_db
def test_sharing_a_post_into_a_group_costs_the_same_queries_for_3_or_12_members(alice, make_user):
    """Each member's card is made for the whole group at once, not with one query per member."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Contact
    from chat.services import conversation_create, message_send
    from realtime.models import Event

    costs = []
    for size in (3, 12):
        people = [make_user() for _ in range(size)]
        Contact.objects.bulk_create([Contact(user=person, contact=alice) for person in people])
        conversation, _ = conversation_create(creator=alice, usernames=[p.username for p in people], title="Big")
        post = PostFactory(author=alice, body="for my contacts", visibility="contacts")
        Contact.objects.filter(user=people[0]).delete()  # no longer a contact: may not see it
        with CaptureQueriesContext(connection) as queries:
            message, _ = message_send(sender=alice, conversation=conversation, body="", shared_post=post.pk)
        costs.append(len(queries))
        assert Event.objects.filter(ref={"message": message.pk}).count() == size + 1
    assert costs[0] == costs[1], costs
