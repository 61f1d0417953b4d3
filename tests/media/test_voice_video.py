"""Voice messages and videos through POST /api/media/: what is taken (kind, duration, waveform, size,
poster), what is refused (400 with a reason, nothing stored), the metadata gone from what is served,
and what a post or a message may carry. Every file is made now with PyAV (tests/media/av_files.py)."""

from io import BytesIO

import av
import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from media.models import Media
from tests.media.av_files import MARK_COLOUR, POSTER_COLOUR, make_audio, make_video, turned_upright
from tests.media.conftest import make_image, open_stored, stored_files

pytestmark = pytest.mark.django_db

TAGGED = {"location": "+48.8566+002.3522/", "creation_time": "2024-05-01T10:00:00Z", "title": "at home"}


def stored_container(media: Media):
    """The stored display file, opened with PyAV (read into memory first: the storage may be S3)."""
    with default_storage.open(media.display_name, "rb") as stored:
        return av.open(BytesIO(stored.read()))


def all_tags(container) -> dict:
    tags = dict(container.metadata)
    for stream in container.streams:
        tags.update(stream.metadata)
    return {name.lower(): value for name, value in tags.items()}


@pytest.mark.parametrize(
    ("container", "codec", "name", "display_type"),
    [
        ("webm", "libopus", "voice.webm", "audio/webm"),
        ("ogg", "libopus", "voice.ogg", "audio/ogg"),
        ("ipod", "aac", "voice.m4a", "audio/mp4"),
    ],
)
def test_a_voice_message_is_taken_with_its_duration_and_waveform(
    client_for, alice, uploaded, container, codec, name, display_type
):
    media = uploaded(client_for(alice), make_audio(container, codec), name=name, content_type="audio/whatever")
    assert media["kind"] == "audio"
    assert media["duration"] == pytest.approx(2.0, abs=0.1)
    assert (media["width"], media["height"], media["thumbnail_url"], media["poster_url"]) == (None, None, None, None)
    waveform = media["waveform"]
    assert len(waveform) == 48 and all(0 <= peak <= 1 for peak in waveform)
    # The tone is louder in its second half, and the waveform shows it.
    assert max(waveform[:20]) < 0.4 < min(waveform[28:46])
    stored = Media.objects.get(pk=media["id"])
    assert stored.display_type == display_type
    with stored_container(stored) as played:
        assert [stream.type for stream in played.streams] == ["audio"]
    assert client_for(alice).get(media["url"]).status_code == 200


def test_a_voice_message_keeps_no_metadata(client_for, alice, uploaded):
    media = uploaded(client_for(alice), make_audio("ipod", "aac", metadata=TAGGED), name="v.m4a")
    with stored_container(Media.objects.get(pk=media["id"])) as played:
        tags = all_tags(played)
    assert not {"location", "creation_time", "title", "encoder"} & set(tags), tags


def test_an_mp4_video_is_taken_without_its_metadata_and_with_a_poster(client_for, alice, uploaded):
    original = make_video("mp4", "libx264", audio_codec="aac", metadata=TAGGED)
    with av.open(BytesIO(original)) as source:
        assert {"location", "creation_time"} <= set(all_tags(source))  # what is to go is there to begin with
    api = client_for(alice)
    media = uploaded(api, original, name="clip.mp4", content_type="video/mp4")
    assert (media["kind"], media["width"], media["height"]) == ("video", 64, 48)
    assert media["duration"] == pytest.approx(2.0, abs=0.15)
    assert media["waveform"] is None and media["blurhash"]
    stored = Media.objects.get(pk=media["id"])
    assert stored.display_type == "video/mp4"
    with stored_container(stored) as played:
        tags = all_tags(played)
        assert sorted(stream.type for stream in played.streams) == ["audio", "video"]
        assert played.streams.video[0].codec_context.name == "h264"
    assert not {"location", "location-eng", "creation_time", "title", "encoder"} & set(tags), tags
    # The poster is the first frame that is not black (the clip starts black for half a second).
    thumbnail = open_stored(stored.thumbnail_name)
    assert thumbnail.size == (400, 400)
    red, green, blue = thumbnail.convert("RGB").getpixel((200, 200))
    assert red > 150 and green < 90 and blue < 90, (red, green, blue)
    poster = open_stored(stored.poster_name)
    assert poster.size == (64, 48) and poster.format == "WEBP"
    assert media["poster_url"] == f"/media/{stored.key}/poster"
    # Served to the uploader (the only one who may see an unattached upload); a stranger gets the 404.
    served = api.get(media["poster_url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert Image.open(BytesIO(b"".join(served.streaming_content) if served.streaming else served.content)).size == (
        64,
        48,
    )
    video = api.get(media["url"])
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    assert APIClient().get(media["poster_url"]).status_code == 404


def test_a_phone_video_held_upright_is_measured_and_postered_as_shown(client_for, alice, uploaded):
    landscape = make_video("mp4", "libx264", size=(64, 48), marked=True)
    media = uploaded(client_for(alice), turned_upright(landscape), name="clip.mp4")
    assert (media["width"], media["height"]) == (48, 64)
    stored = Media.objects.get(pk=media["id"])
    poster = open_stored(stored.poster_name).convert("RGB")
    assert poster.size == (48, 64)
    # Turned a quarter clockwise: the stored frames' top-left corner shows at the top right.
    assert _near(poster.getpixel((40, 8)), MARK_COLOUR) and _near(poster.getpixel((8, 8)), POSTER_COLOUR)
    with stored_container(stored) as played:  # the turn is kept for players
        assert next(played.decode(video=0)).rotation == -90


def _near(colour, expected) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(colour, expected, strict=True))


def test_a_vp9_webm_video_without_sound_is_taken(client_for, alice, uploaded):
    media = uploaded(client_for(alice), make_video("webm", "libvpx-vp9"), name="clip.mp4", content_type="video/mp4")
    assert (media["kind"], media["width"], media["height"]) == ("video", 64, 48)
    assert media["duration"] == pytest.approx(2.0, abs=0.15)
    assert media["thumbnail_url"] and media["poster_url"]
    assert Media.objects.get(pk=media["id"]).display_type == "video/webm"


def refused(response, code: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code, response.json()
    assert response.json()["detail"]
    assert not Media.objects.exists() and stored_files() == []


@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(lambda: make_audio("mp3", "libmp3lame"), "not_an_image", id="mp3-named-webm"),
        pytest.param(lambda: make_video("mp4", "mpeg4"), "unsupported_codec", id="mpeg4-part2-in-mp4"),
        pytest.param(lambda: make_video("mp4", "libx265"), "unsupported_codec", id="hevc-in-mp4"),
        pytest.param(
            lambda: make_video("mp4", "libx264", audio_codec="libmp3lame"), "unsupported_codec", id="mp3-sound"
        ),
        pytest.param(lambda: make_video("mp4", "libx264", audio_codec="aac")[:-3000], "truncated", id="truncated-mp4"),
        pytest.param(
            lambda: make_video("mp4", "libx264", audio_codec="aac", index_first=True)[:-3000],
            "truncated",
            id="truncated-mp4-index-first",
        ),
        pytest.param(lambda: make_audio("webm", "libopus", 61), "too_long", id="61-second-voice"),
        pytest.param(lambda: b"\x1a\x45\xdf\xa3" + b"\x00" * 200, "truncated", id="broken-webm"),
    ],
)
def test_what_is_not_a_voice_message_or_video_tandem_takes_is_refused(client_for, alice, upload, make, code):
    refused(upload(client_for(alice), make(), name="voice.webm", content_type="audio/webm"), code)


def test_a_zero_length_file_is_refused(client_for, alice, upload):
    response = upload(client_for(alice), b"", name="voice.webm", content_type="audio/webm")
    assert response.status_code == 400
    assert response.json()["file"]  # the field's own error: "The submitted file is empty."
    assert not Media.objects.exists() and stored_files() == []


def test_a_webm_without_sound_posted_as_a_voice_message_is_refused(client_for, alice):
    silent = make_video("webm", "libvpx-vp9")
    api = client_for(alice)
    body = {"file": _file(silent, "voice.webm"), "kind": "audio"}
    refused(_post(api, body), "not_audio")


def test_an_image_posted_as_a_voice_message_is_refused(client_for, alice):
    refused(_post(client_for(alice), {"file": _file(make_image(), "voice.webm"), "kind": "audio"}), "not_audio")


@override_settings(MEDIA_VIDEO_MAX_SECONDS=1)
def test_a_video_past_its_duration_is_refused(client_for, alice, upload):
    refused(upload(client_for(alice), make_video(), name="clip.mp4"), "too_long")


@override_settings(MEDIA_AUDIO_MAX_BYTES=5000)
def test_a_voice_message_past_its_size_gets_413_while_a_larger_video_is_taken(client_for, alice, upload, uploaded):
    voice = make_audio("webm", "libopus")
    assert len(voice) > 5000
    response = upload(client_for(alice), voice, name="voice.webm")
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert not Media.objects.exists() and stored_files() == []
    video = make_video("mp4", "libx264", audio_codec="aac")
    assert len(video) > 5000
    assert uploaded(client_for(alice), video, name="clip.mp4")["kind"] == "video"


@override_settings(MEDIA_VIDEO_MAX_BYTES=3000)
def test_a_video_past_its_size_gets_413(client_for, alice, upload):
    response = upload(client_for(alice), make_video("mp4", "libx264", audio_codec="aac"), name="clip.mp4")
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert not Media.objects.exists()


def _file(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _post(api, body: dict):
    return api.post("/api/media/", body, format="multipart")


# What a post or a message may carry ---------------------------------------------------------


@pytest.fixture
def voice(client_for, alice, uploaded):
    return lambda: uploaded(client_for(alice), make_audio("webm", "libopus", 1), name="voice.webm")["id"]


@pytest.fixture
def video(client_for, alice, uploaded):
    return lambda: uploaded(client_for(alice), make_video("webm", "libvpx-vp9", 1), name="clip.webm")["id"]


@pytest.fixture
def photo(client_for, alice, uploaded):
    return lambda: uploaded(client_for(alice))["id"]


def post_with(api, media: list[int]):
    return api.post("/api/posts/", {"body": "", "media": media}, format="json")


def message_with(api, conversation, media: list[int]):
    return api.post(f"/api/conversations/{conversation.pk}/messages/", {"media": media}, format="json")


def test_a_voice_message_is_sent_in_a_chat_and_the_other_member_may_play_it(
    client_for, alice, bob, befriend, voice, django_capture_on_commit_callbacks
):
    conversation = befriend(alice, bob)
    clip = voice()
    answer = message_with(client_for(alice), conversation, [clip])
    assert answer.status_code == 201, answer.content
    [sent] = answer.json()["media"]
    assert (sent["id"], sent["kind"], len(sent["waveform"])) == (clip, "audio", 48)
    assert client_for(bob).get(sent["url"]).status_code == 200


def test_a_video_goes_on_a_post_alone(client_for, alice, video):
    answer = post_with(client_for(alice), [video()])
    assert answer.status_code == 201, answer.content
    assert [item["kind"] for item in answer.json()["media"]] == ["video"]


def test_what_a_post_may_not_carry_is_refused(client_for, alice, voice, video, photo):
    api = client_for(alice)
    cases = {
        "voice": [voice()],
        "video and photo": [video(), photo()],
        "two videos": [video(), video()],
    }
    answers = {name: post_with(api, media) for name, media in cases.items()}
    assert {name: (a.status_code, a.json()["code"]) for name, a in answers.items()} == {
        "voice": (400, "voice_not_allowed"),
        "video and photo": (400, "video_alone"),
        "two videos": (400, "video_alone"),
    }
    assert not Media.objects.exclude(attached_kind="").exists()


def test_what_a_message_may_not_carry_is_refused(client_for, alice, bob, befriend, voice, video, photo):
    conversation = befriend(alice, bob)
    api = client_for(alice)
    cases = {
        "voice and photo": [voice(), photo()],
        "two voices": [voice(), voice()],
        "video and photo": [photo(), video()],
        "two videos": [video(), video()],
    }
    answers = {name: message_with(api, conversation, media) for name, media in cases.items()}
    assert {name: (a.status_code, a.json()["code"]) for name, a in answers.items()} == {
        "voice and photo": (400, "voice_alone"),
        "two voices": (400, "voice_alone"),
        "video and photo": (400, "video_alone"),
        "two videos": (400, "video_alone"),
    }
    assert not Media.objects.exclude(attached_kind="").exists()
    assert message_with(api, conversation, [video()]).status_code == 201


def test_a_video_or_a_voice_message_is_no_avatar(client_for, alice, voice):
    answer = client_for(alice).patch("/api/me/", {"avatar": voice()}, format="json")
    assert answer.status_code == 400
