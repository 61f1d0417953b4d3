"""Chat over REST: contacts, conversations, messages, as the API's clients use it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


def test_request_accept_creates_contacts_and_the_direct_conversation(client_for, alice, bob):
    a, b = client_for(alice), client_for(bob)
    sent = a.post("/api/contact-requests/", {"to": "BOB", "note": "hi, it's Alice"}, format="json")
    assert sent.status_code == 201
    assert sent.data["status"] == "pending" and sent.data["note"] == "hi, it's Alice"
    incoming = b.get("/api/contact-requests/?direction=incoming").data
    assert [r["from_user"]["username"] for r in incoming] == ["alice"]
    assert a.get("/api/contact-requests/?direction=outgoing").data[0]["to_user"]["username"] == "bob"

    accepted = b.post(f"/api/contact-requests/{sent.data['id']}/accept/")
    assert accepted.status_code == 200
    conversation_id = accepted.data["conversation_id"]
    assert [c["username"] for c in a.get("/api/contacts/").data] == ["bob"]
    assert a.get(f"/api/conversations/{conversation_id}/").data["kind"] == "direct"
    assert b.post(f"/api/contact-requests/{sent.data['id']}/accept/").status_code == 409


def test_crossing_requests_count_as_an_accept(client_for, alice, bob):
    client_for(alice).post("/api/contact-requests/", {"to": "bob"}, format="json")
    crossing = client_for(bob).post("/api/contact-requests/", {"to": "alice"}, format="json")
    assert crossing.status_code == 201
    assert crossing.data["status"] == "accepted"
    assert crossing.data["conversation_id"]


def test_decline_and_requests_to_nobody(client_for, alice, bob):
    sent = client_for(alice).post("/api/contact-requests/", {"to": "bob"}, format="json")
    assert client_for(bob).post(f"/api/contact-requests/{sent.data['id']}/decline/").status_code == 200
    assert client_for(alice).get("/api/contacts/").data == []
    assert client_for(alice).post("/api/contact-requests/", {"to": "nobody"}, format="json").status_code == 404
    assert client_for(alice).post("/api/contact-requests/", {"to": "alice"}, format="json").status_code == 400


def test_a_block_stops_requests_and_messages(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    assert client_for(bob).post("/api/blocks/", {"username": "alice"}, format="json").status_code == 201
    refused = client_for(alice).post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "hello?"}, format="json"
    )
    assert refused.status_code == 403
    assert Message.objects.count() == 0
    client_for(alice).delete("/api/contacts/bob/")
    assert client_for(alice).post("/api/contact-requests/", {"to": "bob"}, format="json").status_code == 404
    assert [u["username"] for u in client_for(bob).get("/api/blocks/").data] == ["alice"]
    assert client_for(bob).delete("/api/blocks/alice/").status_code == 204


def test_direct_conversation_is_found_not_duplicated(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    again = client_for(alice).post("/api/conversations/", {"members": ["bob"]}, format="json")
    assert again.status_code == 200
    assert again.data["id"] == conversation.pk


def test_groups_need_contacts_and_have_an_admin(client_for, alice, bob, carol, befriend, make_user):
    befriend(alice, bob)
    stranger = make_user(username="dora")
    refused = client_for(alice).post("/api/conversations/", {"members": ["bob", "dora"]}, format="json")
    assert refused.status_code == 400
    befriend(alice, carol)
    group = client_for(alice).post("/api/conversations/", {"members": ["bob", "carol"], "title": "Trip"}, format="json")
    assert group.status_code == 201
    assert group.data["kind"] == "group" and group.data["title"] == "Trip"
    group_id = group.data["id"]
    assert (
        client_for(bob)
        .post(f"/api/conversations/{group_id}/members/", {"usernames": ["carol"]}, format="json")
        .status_code
        == 403
    )
    assert client_for(alice).delete(f"/api/conversations/{group_id}/members/carol/").status_code == 204
    assert client_for(carol).get(f"/api/conversations/{group_id}/").status_code == 404
    assert client_for(bob).delete(f"/api/conversations/{group_id}/members/bob/").status_code == 204
    assert client_for(stranger).get(f"/api/conversations/{group_id}/").status_code == 404


def test_messages_flow_with_unread_counts(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    a, b = client_for(alice), client_for(bob)
    url = f"/api/conversations/{conversation.pk}/messages/"
    ids = [a.post(url, {"body": f"  message {n}  "}, format="json").data["id"] for n in range(3)]
    listing = b.get("/api/conversations/").data
    assert listing[0]["unread_count"] == 3
    assert listing[0]["last_message"]["body"] == "message 2"
    assert listing[0]["title"] == "Alice"
    assert a.get("/api/conversations/").data[0]["unread_count"] == 0
    assert b.post(f"/api/conversations/{conversation.pk}/read/", {"up_to": ids[1]}, format="json").status_code == 204
    assert b.get("/api/conversations/").data[0]["unread_count"] == 1
    page = b.get(url).data
    assert [m["body"] for m in page["results"]] == ["message 0", "message 1", "message 2"]
    assert page["older"] is None and page["newer"] is None


def test_conversation_list_orders_by_latest_activity(client_for, alice, bob, carol, befriend):
    with_bob, with_carol = befriend(alice, bob), befriend(alice, carol)
    a = client_for(alice)
    a.post(f"/api/conversations/{with_carol.pk}/messages/", {"body": "first"}, format="json")
    a.post(f"/api/conversations/{with_bob.pk}/messages/", {"body": "second"}, format="json")
    assert [c["id"] for c in a.get("/api/conversations/").data] == [with_bob.pk, with_carol.pk]


def test_history_pages_upward(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    a = client_for(alice)
    url = f"/api/conversations/{conversation.pk}/messages/"
    for n in range(25):
        a.post(url, {"body": f"m{n}"}, format="json")
    latest = a.get(f"{url}?limit=10").data
    assert [m["body"] for m in latest["results"]] == [f"m{n}" for n in range(15, 25)]
    assert latest["newer"] is None
    older = a.get(latest["older"]).data
    assert [m["body"] for m in older["results"]] == [f"m{n}" for n in range(5, 15)]
    newer = a.get(older["newer"]).data
    assert [m["body"] for m in newer["results"]] == [f"m{n}" for n in range(15, 25)]


def test_client_id_makes_sending_idempotent(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    url = f"/api/conversations/{conversation.pk}/messages/"
    first = client_for(alice).post(url, {"body": "once", "client_id": "c-1"}, format="json")
    again = client_for(alice).post(url, {"body": "once", "client_id": "c-1"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.data["id"] == again.data["id"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "   "},
        {"body": "\u200b\u202e\ufeff"},
        {"body": " \u200b "},
        {"body": "x" * 4001},
        {},
        {"body": 5},
        {"body": "ok", "reply_to": "x"},
    ],
)
def test_bad_messages_are_refused_and_store_nothing(client_for, alice, bob, befriend, body):
    conversation = befriend(alice, bob)
    response = client_for(alice).post(f"/api/conversations/{conversation.pk}/messages/", body, format="json")
    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_a_non_member_gets_exactly_what_a_missing_id_gets(client_for, alice, bob, carol, befriend):
    conversation = befriend(alice, bob)
    client_for(alice).post(f"/api/conversations/{conversation.pk}/messages/", {"body": "secret"}, format="json")
    outsider = client_for(carol)
    for suffix in ["", "messages/", "read/", "members/"]:
        for method in ("get", "post"):
            theirs = getattr(outsider, method)(f"/api/conversations/{conversation.pk}/{suffix}", {}, format="json")
            missing = getattr(outsider, method)(f"/api/conversations/999999/{suffix}", {}, format="json")
            if theirs.status_code == 405:
                continue
            assert theirs.status_code == missing.status_code == 404, (suffix, method)
            assert theirs.json() == missing.json()
    assert outsider.get("/api/conversations/abc/").status_code == 404
    message_id = Message.objects.get().pk
    assert (
        outsider.post(f"/api/messages/{message_id}/recall/").json() == outsider.post("/api/messages/0/recall/").json()
    )


def test_recall_within_two_minutes_hides_the_body_from_everyone(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    url = f"/api/conversations/{conversation.pk}/messages/"
    sent = client_for(alice).post(url, {"body": "oops"}, format="json").data
    assert client_for(bob).post(f"/api/messages/{sent['id']}/recall/").status_code == 403
    recalled = client_for(alice).post(f"/api/messages/{sent['id']}/recall/")
    assert recalled.status_code == 200
    assert recalled.data["recalled"] is True and recalled.data["body"] == ""
    seen_by_bob = client_for(bob).get(url).data["results"][0]
    assert seen_by_bob["recalled"] is True and seen_by_bob["body"] == ""


def test_recall_after_two_minutes_is_refused(client_for, alice, bob, befriend):
    conversation = befriend(alice, bob)
    sent = client_for(alice).post(f"/api/conversations/{conversation.pk}/messages/", {"body": "old"}, format="json")
    Message.objects.filter(pk=sent.data["id"]).update(created_at=timezone.now() - timedelta(minutes=2, seconds=1))
    response = client_for(alice).post(f"/api/messages/{sent.data['id']}/recall/")
    assert response.status_code == 400
    assert Message.objects.get().recalled_at is None


def test_chat_needs_authentication(api):
    for path in ["/api/contacts/", "/api/conversations/", "/api/contact-requests/", "/api/blocks/"]:
        assert api.get(path).status_code == 401


@pytest.mark.parametrize("rows", [3, 8])
def test_conversation_list_query_count_is_flat(
    client_for, alice, make_user, befriend, django_assert_max_num_queries, rows, settings, tmp_path
):
    """Rows whose last message shares a post (with a photo), replies, or carries photos, and members
    with avatars, cost no query each: cards, reply previews and photos are made for the whole list at once."""
    from accounts.services import profile_update
    from microblog.services import post_create
    from tests.media.ready import ready_media, use_media_root

    use_media_root(settings, tmp_path)
    client = client_for(alice)
    for n in range(rows):
        other = make_user(username=f"friend{n}")
        profile_update(user=other, avatar=ready_media(other).pk)
        conversation = befriend(alice, other)
        url = f"/api/conversations/{conversation.pk}/messages/"
        first = client.post(url, {"body": "hi"}, format="json").data
        post = post_create(author=other, body=f"post {n}", visibility="public", media=[ready_media(other).pk])
        look = {"body": "look", "shared_post": post.pk, "reply_to": first["id"], "media": [ready_media(alice).pk]}
        client.post(url, look, format="json")
    # The token, the rows, their members (and avatars), the last messages, their photos, the cards'
    # posts, the cards' photos, the reply previews.
    with django_assert_max_num_queries(8):
        listed = client.get("/api/conversations/").data
    assert len(listed) == rows
    assert all(row["last_message"]["shared_post"]["body"].startswith("post ") for row in listed)
    assert all(row["last_message"]["shared_post"]["image"]["thumbnail_url"] for row in listed)
    assert all(len(row["last_message"]["media"]) == 1 for row in listed)
    assert all(row["last_message"]["reply_to"] for row in listed)
    assert all("/thumbnail" in member["avatar_url"] for row in listed for member in row["members"][1:])


def test_the_hand_written_message_shape_matches_drf_field_rendering(client_for, alice, bob, befriend):
    """message_data skips DRF's fields for speed; it must write what they would write."""
    from rest_framework import serializers as drf

    from accounts.serializers import UserSummarySerializer
    from chat.models import Message as MessageModel

    class Reference(drf.ModelSerializer):
        sender = drf.SerializerMethodField()

        class Meta:
            model = MessageModel
            fields = ("id", "conversation", "sender", "body", "client_id", "reply_to", "created_at")

        def get_sender(self, message):
            return UserSummarySerializer(message.sender).data

    conversation = befriend(alice, bob)
    url = f"/api/conversations/{conversation.pk}/messages/"
    first = client_for(alice).post(url, {"body": "first", "client_id": "x"}, format="json").data
    answer = client_for(bob).post(url, {"body": "second", "reply_to": first["id"]}, format="json").data
    expected = Reference(MessageModel.objects.get(pk=answer["id"])).data
    assert {key: answer[key] for key in expected} == dict(expected)
    assert (answer["shared_post"], answer["recalled"], answer["media"]) == (None, False, [])
