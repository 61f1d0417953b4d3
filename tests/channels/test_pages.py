"""The channel pages through Django's test client: create, the channel's page, subscribe, the chat
list's one Subscriptions row (whose count stays off the main badge), the inbox and the dashboard."""

import re

import pytest

from chat.services import channels

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_create_subscribe_and_see_one_subscriptions_row(station, signed_in, broadcast_as, make_user):
    channels.channel_create(owner=station["owner"], username="second", display_name="Second")
    page = signed_in(station["reader"])
    assert page.get("/c/teahouse/").status_code == 200
    assert page.post("/c/teahouse/subscribe/", {"subscribe": "1"}).status_code == 302
    page.post("/c/second/subscribe/", {"subscribe": "1"})
    assert broadcast_as(station["owner"], station["articles"]).status_code == 201
    shown = page.get("/c/teahouse/").content.decode()
    assert '<span id="subscriber-count">1</span> subscriber<' in shown
    assert "Green" in shown and "Subscribed" in shown
    chat = page.get("/chat/").content.decode()
    assert chat.count('id="subscriptions-entry"') == 1
    assert re.search(r'subscriptions-badge" aria-label="unread broadcasts">1<', chat)
    assert re.search(r'id="chat-badge"></span>', chat)  # the main badge stays dark
    listed = page.get("/chat/subscriptions/").content.decode()
    assert listed.index("Tea House") < listed.index("Second")  # newest broadcast first


def test_the_channel_conversation_page_is_read_only(station, signed_in, broadcast_as):
    page = signed_in(station["reader"])
    page.post("/c/teahouse/subscribe/", {"subscribe": "1"})
    broadcast_as(station["owner"], station["articles"])
    conversation = station["channel"].conversations.get(kind="channel")
    shown = page.get(f"/chat/{conversation.pk}/").content.decode()
    assert 'id="read-only-note"' in shown and 'id="composer" class="composer" hidden' in shown
    refused = page.post(f"/chat/{conversation.pk}/", {"body": "hi"})
    assert refused.status_code == 403


def test_create_page_makes_a_channel_and_opens_its_dashboard(signed_in, alice):
    page = signed_in(alice)
    made = page.post("/channels/new/", {"username": "daily", "display_name": "Daily", "bio": ""})
    assert made.status_code == 302 and made["Location"] == "/c/daily/dashboard/"
    dashboard = page.get("/c/daily/dashboard/").content.decode()
    assert "<svg" in dashboard and "Keyword auto-replies" in dashboard
    taken = page.post("/channels/new/", {"username": "daily", "display_name": "Again"})
    assert taken.status_code == 400


def test_inbox_and_dashboard_are_for_the_owner_and_editors(station, signed_in, client_for):
    reader = client_for(station["reader"])
    reader.post("/api/channels/teahouse/subscribe/")
    conversation = reader.post("/api/channels/teahouse/conversation/").json()
    reader.post(f"/api/conversations/{conversation['id']}/messages/", {"body": "Hello there"}, format="json")
    page = signed_in(station["reader"])
    assert page.get("/c/teahouse/inbox/").status_code == 404
    assert page.get("/c/teahouse/dashboard/").status_code == 404
    page = signed_in(station["editor"])
    inbox = page.get(f"/c/teahouse/inbox/?conversation={conversation['id']}").content.decode()
    assert "Hello there" in inbox
    answered = page.post("/c/teahouse/inbox/", {"conversation": conversation["id"], "body": "Hi from us"})
    assert answered.status_code == 302
    last = reader.get(f"/api/conversations/{conversation['id']}/messages/").json()["results"][-1]
    assert (last["sender"]["username"], last["body"]) == ("teahouse", "Hi from us")
    broadcast = page.post(
        "/c/teahouse/dashboard/", {"action": "broadcast", "title": "Hi", "articles": station["articles"]}
    )
    assert broadcast.status_code == 302
    assert page.post("/c/teahouse/dashboard/", {"action": "editor-add", "username": "reader"}).status_code == 403


def test_a_channels_profile_address_leads_to_its_channel_page(station, client):
    answer = client.get("/u/teahouse/")
    assert (answer.status_code, answer["Location"]) == (302, "/c/teahouse/")


def test_a_broadcast_from_the_dashboard_carries_the_photos_uploaded_with_it(
    station, signed_in, client_for, django_capture_on_commit_callbacks, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.media.conftest import make_image

    settings.MEDIA_ROOT = tmp_path
    settings.BROADCASTS_PER_DAY = 5  # the second one below is refused for its photo, not the daily limit
    reader = client_for(station["reader"])
    reader.post("/api/channels/teahouse/subscribe/")
    page = signed_in(station["editor"])
    assert 'data-photos aria-labelledby="broadcast-heading"' in page.get("/c/teahouse/dashboard/").content.decode()
    photo = SimpleUploadedFile("leaves.jpg", make_image(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        upload = client_for(station["editor"]).post("/api/media/", {"file": photo}, format="multipart")
    assert upload.status_code == 201, upload.content
    fields = {"action": "broadcast", "title": "In pictures", "articles": station["articles"][:1]}
    assert page.post("/c/teahouse/dashboard/", {**fields, "media": [upload.json()["id"]]}).status_code == 302
    conversation = next(c for c in reader.get("/api/conversations/").json() if c["kind"] == "channel")
    last = reader.get(f"/api/conversations/{conversation['id']}/messages/").json()["results"][-1]
    assert [item["id"] for item in last["media"]] == [upload.json()["id"]]
    # Someone else's upload is refused as a missing one is, and nothing is broadcast.
    theirs = SimpleUploadedFile("mine.jpg", make_image(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        other = reader.post("/api/media/", {"file": theirs}, format="multipart")
    refused = page.post("/c/teahouse/dashboard/", {**fields, "title": "Not mine", "media": [other.json()["id"]]})
    assert refused.status_code == 400
    assert "Not mine" not in page.get("/c/teahouse/").content.decode()
