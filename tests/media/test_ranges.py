"""Range requests for voice clips and videos (photos too): how a player seeks.

In "direct" mode the view answers `Range: bytes=...` itself: 206 with Content-Range and the
bytes asked for, 416 with `Content-Range: bytes */<size>` past the end, the whole file (200) for
what is not one valid range or an If-Range that is not the file's ETag. Always after the check:
a stranger's range request gets the one 404 of a missing key, to the byte. Asked in-process,
through the worker's pooled path for /media/ (config.pooled) and over a live daphne; through
nginx (accel mode) in tests/media/test_nginx.py.
"""

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import token_for
from chat import services as chat
from config.pooled import PooledHandler
from microblog import services as microblog
from tests.live import fetch, log_in, own_daphne

from .av_files import stored_variant, stored_video, stored_voice
from .files import detach, url
from .test_serving_path import asgi_answer

pytestmark = pytest.mark.django_db

MISSING = "/media/no-such-key-at-all/display"
# Past one of the view's 64 KiB blocks, so a middle range starts in one block and ends in another.
PADDING = 200_000


@pytest.fixture(autouse=True)
def direct(settings, media_root):
    settings.MEDIA_SERVE = "direct"


@pytest.fixture
def scene(make_user, befriend):
    """A voice clip in a chat between sender and member; a video in the sender's followers-only post."""
    sender, member, stranger = make_user(), make_user(), make_user()
    conversation = befriend(sender, member)
    message, _ = chat.message_send(sender=sender, conversation=conversation, body="a voice message")
    microblog.user_follow(follower=member, followee=sender)
    post = microblog.post_create(author=sender, body="a clip", visibility="followers")
    return {
        "sender": sender,
        "member": member,
        "stranger": stranger,
        "message": message,
        "voice": stored_voice(sender, attach_to=("message", message.pk), padding=PADDING),
        "video": stored_video(sender, attach_to=("post", post.pk), padding=PADDING),
    }


def as_(user):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user).key}")
    return client


def answer(client, path, **headers):
    response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, dict(response.items()), body


@pytest.mark.parametrize("kind", ["voice", "video"])
def test_ranges_answer_the_bytes_asked_for(scene, kind):
    media, client = scene[kind], as_(scene["member"])
    whole = stored_variant(media)
    size = len(whole)
    assert size > PADDING
    asked = {
        "bytes=0-9": (0, 9),  # the first bytes (a player reading the header)
        "bytes=0-": (0, size - 1),  # what browsers send first for <audio>/<video>
        "bytes=65000-140000": (65000, 140000),  # a middle range across blocks (a seek)
        f"bytes={size - 100}-": (size - 100, size - 1),  # open-ended
        "bytes=-500": (size - 500, size - 1),  # the last 500 (an MP4 index at the end)
        f"bytes=100-{size + 5000}": (100, size - 1),  # a last byte past the end: to the end
        f"bytes=-{size * 2}": (0, size - 1),  # a suffix longer than the file: all of it
    }
    for header, (first, last) in asked.items():
        status, headers, body = answer(client, url(media), HTTP_RANGE=header)
        assert status == 206, (header, status)
        assert body == whole[first : last + 1], header
        assert headers["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert headers["Content-Length"] == str(last - first + 1), header
        assert headers["Accept-Ranges"] == "bytes"
        assert headers["Content-Type"] == media.display_type and headers["Content-Disposition"] == "inline"
        assert headers["ETag"] == f'"{media.key}.display"' and headers["Cache-Control"] == "private, no-cache"
    # Without a Range: the whole file, saying ranges are taken.
    status, headers, body = answer(client, url(media))
    assert (status, body, headers["Accept-Ranges"]) == (200, whole, "bytes")
    assert "Content-Range" not in headers and headers["Content-Length"] == str(size)


def test_a_range_past_the_end_is_416_with_the_size(scene):
    media, client = scene["video"], as_(scene["member"])
    size = len(stored_variant(media))
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        status, headers, body = answer(client, url(media), HTTP_RANGE=header)
        assert (status, body) == (416, b""), header
        assert headers["Content-Range"] == f"bytes */{size}", header
        assert headers["Cache-Control"] == "private, no-cache" and "Content-Disposition" not in headers


def test_what_is_not_one_valid_range_gets_the_whole_file(scene):
    """RFC 9110 lets a server ignore a Range it does not take: multi-part ranges (never needed by a
    player), other units, malformed ones, a first byte after the last."""
    media, client = scene["voice"], as_(scene["member"])
    whole = stored_variant(media)
    for header in (
        "bytes=0-9,20-29",
        "items=0-9",
        "bytes=abc",
        "bytes=9-0",
        "bytes=",
        "bytes=--5",
        "0-9",
        "bytes = 5-7",
        "bytes=" + "9" * 5000 + "-",  # more digits than Python turns into a number: no 500
    ):
        status, headers, body = answer(client, url(media), HTTP_RANGE=header)
        assert (status, body) == (200, whole), header
        assert "Content-Range" not in headers


def test_if_range_and_if_none_match(scene):
    media, client = scene["video"], as_(scene["member"])
    whole, etag = stored_variant(media), f'"{scene["video"].key}.display"'
    # If-Range the current ETag: the range; any other validator (another ETag, a weak one, a date): the whole file.
    assert answer(client, url(media), HTTP_RANGE="bytes=10-19", HTTP_IF_RANGE=etag)[::2] == (206, whole[10:20])
    for validator in ('"another"', f"W/{etag}", "Mon, 30 Nov 2026 10:00:00 GMT"):
        assert answer(client, url(media), HTTP_RANGE="bytes=10-19", HTTP_IF_RANGE=validator)[::2] == (200, whole)
    # A cached copy still good: 304, range or not.
    status, headers, body = answer(client, url(media), HTTP_RANGE="bytes=10-19", HTTP_IF_NONE_MATCH=etag)
    assert (status, body) == (304, b"") and "Content-Range" not in headers


def test_a_strangers_range_request_gets_the_missing_keys_404(scene):
    """Before any range is looked at, the check: the same 404 for every way of asking, to the byte."""
    voice, video = scene["voice"], scene["video"]
    size = len(stored_variant(video))
    etag = f'"{video.key}.display"'
    ways = [
        {"HTTP_RANGE": "bytes=0-9"},
        {"HTTP_RANGE": "bytes=0-"},
        {"HTTP_RANGE": "bytes=-500"},
        {"HTTP_RANGE": f"bytes={size + 10}-"},  # past the end: still 404, not 416 (which would give the size)
        {"HTTP_RANGE": "bytes=10-19", "HTTP_IF_RANGE": etag},
        {"HTTP_RANGE": "bytes=0-9", "HTTP_IF_NONE_MATCH": etag},
    ]
    pages = Client()
    pages.force_login(scene["stranger"])
    for client in (as_(scene["stranger"]), as_(None), pages):
        for media in (voice, video):
            for headers in ways:
                refused = answer(client, url(media), **headers)
                assert refused[0] == 404, headers
                assert refused == answer(client, MISSING, **headers), headers
    # Members lose it with the message: a recalled voice clip answers no range to anyone.
    chat.message_recall(user=scene["sender"], message_id=scene["message"].pk)
    detach("message", scene["message"].pk)
    for user in (scene["sender"], scene["member"]):
        refused = answer(as_(user), url(voice), HTTP_RANGE="bytes=0-9")
        assert refused == answer(as_(user), MISSING, HTTP_RANGE="bytes=0-9")


def test_a_photo_and_a_poster_answer_ranges_too(scene, make_user):
    video = scene["video"]
    poster = stored_variant(video, "poster")
    status, headers, body = answer(as_(scene["member"]), url(video, "poster"), HTTP_RANGE="bytes=4-11")
    assert (status, body, headers["Content-Range"]) == (206, poster[4:12], f"bytes 4-11/{len(poster)}")


def test_accel_mode_leaves_ranges_to_nginx(scene, settings):
    """The worker's answer is empty: nginx answers the range from the file (tests/media/test_nginx.py)."""
    settings.MEDIA_SERVE = "accel"
    status, headers, body = answer(as_(scene["member"]), url(scene["video"]), HTTP_RANGE="bytes=0-9")
    assert (status, body) == (200, b"")
    assert headers["X-Accel-Redirect"] == f"/_protected-media/{scene['video'].display_name}"
    # nginx says whether it takes ranges (it does, for a file): none of the worker's to pass on.
    assert "Content-Range" not in headers and "Accept-Ranges" not in headers


@pytest.mark.django_db(transaction=True)
def test_the_pooled_path_answers_ranges_as_djangos_handler_does(scene):
    pooled = PooledHandler(fetch_prefixes=("/media/",), fetch_threads=2, threads=2)
    try:
        video, token = scene["video"], ("Authorization", f"Token {token_for(user=scene['member']).key}")
        whole = stored_variant(video)
        stranger = ("Authorization", f"Token {token_for(user=scene['stranger']).key}")
        for headers, status in (
            ([token, ("Range", "bytes=65000-140000")], 206),
            ([token, ("Range", f"bytes={len(whole)}-")], 416),
            ([stranger, ("Range", "bytes=0-9")], 404),
        ):
            ours = asgi_answer(pooled, url(video), headers=headers)
            assert ours == asgi_answer(ASGIHandler(), url(video), headers=headers)
            assert ours[0] == status
        assert (
            asgi_answer(pooled, url(video), headers=[token, ("Range", "bytes=65000-140000")])[2] == whole[65000:140001]
        )
    finally:
        pooled.close()


# Against a live daphne -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server_with_media(django_db_setup, tmp_path_factory):
    root = tmp_path_factory.mktemp("live-ranges")
    with own_daphne(TEST_MEDIA_ROOT=str(root), MEDIA_SERVE="direct") as server:
        server.media_root = root
        yield server


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_ranges_over_a_live_daphne(live_server_with_media, settings, make_user, befriend):
    server = live_server_with_media
    settings.MEDIA_ROOT = server.media_root
    sender, member, stranger = make_user(), make_user(), make_user()
    conversation = befriend(sender, member)
    message, _ = chat.message_send(sender=sender, conversation=conversation, body="a voice message")
    video = stored_video(sender, attach_to=("message", message.pk), padding=PADDING)
    voice = stored_voice(sender, attach_to=("message", message.pk), padding=PADDING)
    session = log_in(server, member)
    cookie = {"Cookie": f"sessionid={session.session_key}"}
    for media in (video, voice):
        whole = stored_variant(media)
        size = len(whole)
        for header, (first, last) in {
            "bytes=0-9": (0, 9),
            "bytes=70000-199999": (70000, 199999),
            "bytes=150000-": (150000, size - 1),
            "bytes=-1000": (size - 1000, size - 1),
        }.items():
            status, headers, body = fetch(server, url(media), Range=header, **cookie)
            assert (status, headers["Content-Range"]) == (206, f"bytes {first}-{last}/{size}"), header
            assert body == whole[first : last + 1] and headers["Content-Length"] == str(last - first + 1)
        status, headers, body = fetch(server, url(media), Range=f"bytes={size}-", **cookie)
        assert (status, headers["Content-Range"], body) == (416, f"bytes */{size}", b"")
        token = {"Authorization": f"Token {token_for(user=stranger).key}"}
        refused = fetch(server, url(media), Range="bytes=0-9", **token)
        missing = fetch(server, MISSING, Range="bytes=0-9", **token)
        assert refused[0] == 404
        assert (refused[0], refused[2]) == (missing[0], missing[2])
        assert {k: v for k, v in refused[1].items() if k != "Date"} == {
            k: v for k, v in missing[1].items() if k != "Date"
        }
