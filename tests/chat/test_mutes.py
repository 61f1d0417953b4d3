"""Mute from either side: a conversation (its messages still arrive, but raise no badge) and an
author's posts from a conversation with them; /settings/ lists both with an unmute button each."""

import re

import pytest

from microblog.models import Mute
from tests.live import Socket, rest


@pytest.fixture
def pair(alice, bob, befriend):
    return befriend(alice, bob)


def nav_badge(html: str) -> str:
    return re.search(r'id="chat-badge"[^>]*>([^<]*)<', html).group(1)


@pytest.mark.django_db
def test_mute_a_conversation_over_rest(client_for, alice, bob, pair, make_user):
    a = client_for(alice)
    client_for(bob).post(f"/api/conversations/{pair.pk}/messages/", {"body": "psst"}, format="json")
    muted = a.post(f"/api/conversations/{pair.pk}/mute/")
    assert muted.status_code == 200 and muted.data["muted"] is True
    assert a.post(f"/api/conversations/{pair.pk}/mute/").data["muted"] is True  # idempotent
    listing = a.get("/api/conversations/").data[0]
    assert (listing["muted"], listing["unread_count"]) == (True, 1)
    assert client_for(bob).get("/api/conversations/").data[0]["muted"] is False  # only for alice
    assert a.delete(f"/api/conversations/{pair.pk}/mute/").data["muted"] is False
    assert a.get(f"/api/conversations/{pair.pk}/").data["muted"] is False

    stranger = client_for(make_user(username="mallory"))
    not_member = stranger.post(f"/api/conversations/{pair.pk}/mute/")
    missing = stranger.post("/api/conversations/999999/mute/")
    assert not_member.status_code == missing.status_code == 404
    assert not_member.json() == missing.json()
    assert stranger.delete("/api/conversations/abc/mute/").status_code == 404


@pytest.mark.django_db
def test_a_muted_conversation_raises_no_nav_badge_but_keeps_its_marker_and_messages(
    client, client_for, alice, bob, pair
):
    client_for(bob).post(f"/api/conversations/{pair.pk}/messages/", {"body": "still shown"}, format="json")
    client.force_login(alice)
    assert nav_badge(client.get("/").content.decode()) == "1"
    client.post(f"/chat/{pair.pk}/mute/", {"muted": "1", "next": "/chat/"})
    home = client.get("/").content.decode()
    assert nav_badge(home) == "" and f'data-muted-conversations="{pair.pk}"' in home
    chat_list = client.get("/chat/").content.decode()
    assert 'class="is-muted"' in chat_list and ">muted</span>" in chat_list and "still shown" in chat_list
    page = client.get(f"/chat/{pair.pk}/").content.decode()
    assert "Unmute this chat" in page and "still shown" in page


@pytest.mark.django_db
def test_mute_an_author_from_the_chat_and_unmute_both_from_settings(client, alice, bob, pair):
    client.force_login(alice)
    page = client.get(f"/chat/{pair.pk}/").content.decode()
    assert "Mute @bob's posts" in page
    back = client.post("/chat/mute-author/", {"username": "bob", "muted": "1", "next": f"/chat/{pair.pk}/"})
    assert back.status_code == 302 and back.url == f"/chat/{pair.pk}/"
    assert Mute.objects.filter(user=alice, muted=bob).exists()
    assert "Unmute @bob's posts" in client.get(f"/chat/{pair.pk}/").content.decode()
    client.post(f"/chat/{pair.pk}/mute/", {"muted": "1"})

    settings_page = client.get("/settings/").content.decode()
    assert 'aria-label="Unmute chat Bob"' in settings_page and 'aria-label="Unmute @bob"' in settings_page
    client.post("/chat/mute-author/", {"username": "bob", "muted": "0", "next": "/settings/"})
    client.post(f"/chat/{pair.pk}/mute/", {"muted": "0", "next": "/settings/"})
    settings_page = client.get("/settings/").content.decode()
    assert "No muted chats." in settings_page and "No muted authors." in settings_page
    assert not Mute.objects.filter(user=alice).exists()


@pytest.mark.django_db
def test_mute_forms_refuse_bad_input_without_a_500(client, alice, bob, pair, make_user):
    client.force_login(make_user(username="mallory"))
    assert client.post(f"/chat/{pair.pk}/mute/", {"muted": "1"}).status_code == 404
    for name in ("nobody", "mallory", "bo\x00b", ""):
        assert client.post("/chat/mute-author/", {"username": name, "muted": "1"}).status_code == 404
    away = client.post("/chat/mute-author/", {"username": "bob", "muted": "1", "next": "https://evil.example/"})
    assert away.url == "/settings/"
    assert client.get("/chat/mute-author/").status_code == 405


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_muting_tells_my_other_sockets_and_messages_keep_arriving(daphne_server, alice, bob, pair):
    other_tab = Socket.open(daphne_server, alice)
    mute = f"/api/conversations/{pair.pk}/mute/"
    try:
        rest(daphne_server, alice, "POST", mute).json()
        frame = other_tab.expect("conversation.muted")
        assert (frame["conversation"], frame["muted"]) == (pair.pk, True) and frame["seq"] >= 1
        rest(daphne_server, bob, "POST", f"/api/conversations/{pair.pk}/messages/", {"body": "muted, not lost"}).json()
        assert other_tab.expect("message.new")["message"]["body"] == "muted, not lost"
        rest(daphne_server, alice, "DELETE", mute).json()
        assert other_tab.expect("conversation.muted")["muted"] is False
        with Socket.open(daphne_server, alice) as later:
            later.send(type="resume", after=0)
            replayed = later.until("resume.done")[:-1]
        assert [(f["type"], f.get("muted")) for f in replayed if f["type"] != "contact.accepted"] == [
            ("conversation.muted", True),
            ("message.new", None),
            ("conversation.muted", False),
        ]
    finally:
        other_tab.close()
