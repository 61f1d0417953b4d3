"""`seed_demo` gives a new visitor a living app, and running it twice changes nothing."""

import pytest
from django.core.management import call_command

from accounts.models import Contact, User
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_seed_demo_is_repeatable(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert "alice" in capsys.readouterr().out
    assert User.objects.filter(kind="person").count() == 4
    assert Contact.objects.count() == 6
    assert Conversation.objects.filter(kind="group").count() == 1
    assert Message.objects.exclude(conversation__kind="channel").count() == 9


def test_seed_demo_has_a_channel_with_broadcasts_subscribed_by_the_demo_people():
    from chat.models import Broadcast, Channel
    from chat.selectors import conversations_for

    call_command("seed_demo")
    call_command("seed_demo")
    channel = Channel.objects.get(account__username="tandemtravel")
    assert (channel.owner.username, channel.subscriber_count) == ("alice", 3)
    assert Broadcast.objects.filter(channel=channel).count() == 3
    carol = User.objects.get(username="carol")
    rows = [row for row in conversations_for(carol) if row.kind == "channel"]
    assert [row.unread_count for row in rows] == [3]  # subscribed before the three broadcasts
    alice = User.objects.get(username="alice")
    assert alice.check_password("tandem-demo-2026")


def test_seed_demo_if_empty_leaves_a_used_database_alone(make_user):
    make_user(username="someone")
    call_command("seed_demo", "--if-empty")
    assert not User.objects.filter(username="alice").exists()


def test_seed_demo_has_a_voice_message_and_a_video_made_at_seed_time(client):
    from media.models import Media

    call_command("seed_demo")
    voice = Media.objects.get(kind="audio")
    video = Media.objects.get(kind="video")
    assert (voice.status, voice.attached_kind) == ("ready", "message")
    assert (video.status, video.attached_kind) == ("ready", "post")
    assert 3 < voice.duration < 5 and len(voice.waveform) == 48 and max(voice.waveform) > 0.3
    assert 3 < video.duration < 5 and (video.width, video.height) == (320, 180) and video.poster_name
    # Alice has not listened yet: her chat list says so, and her page shows the dot.
    client.force_login(User.objects.get(username="alice"))
    conversation = Message.objects.get(pk=voice.attached_id).conversation_id
    page = client.get(f"/chat/{conversation}/").content.decode()
    assert '<span class="preview" dir="auto">[Voice]</span>' in page and 'class="voice unplayed"' in page
    explore = client.get("/explore/").content.decode()
    assert 'class="photo video"' in explore and "0:04" in explore
