"""Take a public thread private: a group with the chosen contacts, opened with the post."""

import pytest

from accounts.models import ContactRequest
from chat.models import Conversation, Message
from microblog.services import post_repost
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(alice, bob, make_user, befriend):
    """bob posts; carol replies and dave reposts. alice is a contact of bob and carol, not of dave."""
    carol, dave = make_user(username="carol"), make_user(username="dave")
    befriend(alice, bob)
    befriend(alice, carol)
    post = PostFactory(author=bob, body="Who's up for a harbour walk?")
    PostFactory(author=carol, body="Me!", reply_to=post)
    post_repost(author=dave, post=post, comment="count me in")
    return post, carol, dave


def test_group_of_contacts_opens_with_the_post_and_others_get_a_request(client_for, alice, bob, thread):
    post, carol, dave = thread
    response = client_for(alice).post(
        "/api/conversations/from-post/", {"post": post.pk, "members": ["bob", "carol", "dave"]}, format="json"
    )
    assert response.status_code == 201
    assert response.data["invited"] == ["dave"]
    conversation = Conversation.objects.get(pk=response.data["conversation"]["id"])
    assert conversation.kind == "group"
    assert sorted(m["username"] for m in response.data["conversation"]["members"]) == ["alice", "bob", "carol"]
    first = Message.objects.filter(conversation=conversation).get()
    assert first.shared_post_id == post.pk
    seen_by_carol = client_for(carol).get(f"/api/conversations/{conversation.pk}/messages/").data["results"]
    assert seen_by_carol[0]["shared_post"]["body"] == "Who's up for a harbour walk?"
    request = ContactRequest.objects.get(from_user=alice, to_user=dave)
    assert f"/p/{post.pk}/" in request.note


def test_only_people_of_the_thread_and_visible_posts(client_for, alice, thread, make_user):
    post, _, _ = thread
    make_user(username="zed")
    client = client_for(alice)
    assert (
        client.post("/api/conversations/from-post/", {"post": post.pk, "members": ["zed"]}, format="json").status_code
        == 400
    )
    assert (
        client.post("/api/conversations/from-post/", {"post": 10**9, "members": ["bob"]}, format="json").status_code
        == 404
    )
    only_strangers = client.post("/api/conversations/from-post/", {"post": post.pk, "members": ["dave"]}, format="json")
    assert only_strangers.status_code == 400
    assert not Conversation.objects.filter(kind="group").exists()


def test_the_page_takes_it_private(client, alice, thread):
    post, _, _ = thread
    client.force_login(alice)
    assert f"/chat/private/?post={post.pk}" in client.get(f"/p/{post.pk}/").content.decode()
    form = client.get(f"/chat/private/?post={post.pk}").content.decode()
    assert "will get a contact request" in form and "@dave" in form
    response = client.post(f"/chat/private/?post={post.pk}", {"members": ["bob", "carol", "dave"]}, follow=True)
    page = response.content.decode()
    assert "Sent a contact request to @dave." in page
    assert "harbour walk" in page
