"""A voice message played: the listener's own state (WeChat's dot), over REST, in history, on the page and in pushes."""

import pytest

from chat.models import VoicePlay
from realtime.models import Event
from tests.media.av_files import make_audio
from tests.media.conftest import media_root, upload, uploaded  # noqa: F401 (fixtures: an empty storage, uploads)

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(make_user):
    return make_user(username="carol")


@pytest.fixture
def voice_message(client_for, alice, bob, befriend, uploaded):  # noqa: F811 (the imported fixture)
    """Alice's voice message to Bob, as her client sends it (the message's id)."""

    conversation = befriend(alice, bob)

    def send(body: str = "") -> dict:
        clip = uploaded(client_for(alice), make_audio("webm", "libopus", 1), name="voice.webm")
        answer = client_for(alice).post(
            f"/api/conversations/{conversation.pk}/messages/", {"media": [clip["id"]], "body": body}, format="json"
        )
        assert answer.status_code == 201, answer.content
        return answer.json()

    return send


def history(client, conversation_id: int) -> list[dict]:
    return client.get(f"/api/conversations/{conversation_id}/messages/").json()["results"]


def test_a_voice_message_is_unplayed_for_the_listener_until_played_and_stays_played(
    client_for, alice, bob, voice_message
):
    message = voice_message()
    assert message["played"] is True  # the sender's own: never a dot
    [unplayed] = history(client_for(bob), message["conversation"])
    assert unplayed["played"] is False

    answer = client_for(bob).post(f"/api/messages/{message['id']}/played/")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["id"], answer.json()["played"]) == (message["id"], True)
    assert history(client_for(bob), message["conversation"])[0]["played"] is True
    assert history(client_for(alice), message["conversation"])[0]["played"] is True
    # The listener's other tabs hear of it; nobody else does.
    told = Event.objects.filter(type="message.played")
    assert [(e.user_id, e.ref) for e in told] == [
        (bob.pk, {"conversation": message["conversation"], "message": message["id"]})
    ]


def test_played_twice_is_played_once(client_for, bob, voice_message):
    message = voice_message()
    for _ in range(2):
        assert client_for(bob).post(f"/api/messages/{message['id']}/played/").status_code == 200
    assert VoicePlay.objects.filter(user=bob).count() == 1
    assert Event.objects.filter(type="message.played").count() == 1


def test_the_senders_own_voice_message_stores_nothing(client_for, alice, voice_message):
    message = voice_message()
    answer = client_for(alice).post(f"/api/messages/{message['id']}/played/")
    assert (answer.status_code, answer.json()["played"]) == (200, True)
    assert not VoicePlay.objects.exists()
    assert not Event.objects.filter(type="message.played").exists()


def test_a_stranger_gets_the_404_of_a_missing_message(client_for, carol, voice_message):
    message = voice_message()
    stranger = client_for(carol).post(f"/api/messages/{message['id']}/played/")
    missing = client_for(carol).post("/api/messages/999999/played/")
    nonsense = client_for(carol).post("/api/messages/nope/played/")
    assert stranger.status_code == missing.status_code == nonsense.status_code == 404
    assert stranger.json() == missing.json()
    assert not VoicePlay.objects.exists()


def test_a_text_or_a_recalled_voice_message_is_not_played(client_for, alice, bob, voice_message):
    message = voice_message()
    assert client_for(alice).post(f"/api/messages/{message['id']}/recall/").status_code == 200
    recalled = client_for(bob).post(f"/api/messages/{message['id']}/played/")
    assert (recalled.status_code, recalled.json()["code"]) == (400, "not_voice")
    [shown] = history(client_for(bob), message["conversation"])
    assert (shown["recalled"], shown["media"], shown["played"]) == (True, [], None)
    path = f"/api/conversations/{message['conversation']}/messages/"
    text = client_for(alice).post(path, {"body": "hi"}, format="json")
    assert text.json()["played"] is None
    refused = client_for(bob).post(f"/api/messages/{text.json()['id']}/played/")
    assert (refused.status_code, refused.json()["code"]) == (400, "not_voice")
    assert not VoicePlay.objects.exists()


def test_the_chat_page_shows_the_dot_until_played(client, alice, bob, voice_message, client_for):
    message = voice_message()
    client.force_login(bob)
    page = client.get(f"/chat/{message['conversation']}/").content.decode()
    assert 'class="voice unplayed"' in page and '<span class="preview" dir="auto">[Voice]</span>' in page
    client_for(bob).post(f"/api/messages/{message['id']}/played/")
    page = client.get(f"/chat/{message['conversation']}/").content.decode()
    assert 'class="voice"' in page and 'class="voice unplayed"' not in page
    client.force_login(alice)
    assert 'class="voice unplayed"' not in client.get(f"/chat/{message['conversation']}/").content.decode()


def test_a_history_page_of_voice_messages_costs_one_more_query_whatever_its_length(client_for, bob, voice_message):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = voice_message()
    bob_api = client_for(bob)
    with CaptureQueriesContext(connection) as one:
        history(bob_api, first["conversation"])
    for _ in range(3):
        voice_message()
    with CaptureQueriesContext(connection) as four:
        assert len(history(bob_api, first["conversation"])) == 4
    assert len(four) == len(one)
