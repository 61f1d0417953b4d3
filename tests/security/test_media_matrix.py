"""The authorization matrix of uploaded files: every photo of the owner's world × every role,
asked by token and by session cookie, for both files of each (display and thumbnail); then
every voice clip and video the same way, for every variant (display, thumbnail, poster) and with
Range requests as players send them (a stranger's range request is the missing key's 404 too).

/media/<key>/<variant> is not in the API schema (it is served beside the pages), so it has its
own table here, with the roles of conftest.World. Where a role may not see a photo, the answer
must be exactly (status, headers, body) the answer for a key that does not exist.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from chat import services as chat
from media.models import Media
from microblog import services as microblog
from tests.media.av_files import stored_variant, stored_video, stored_voice
from tests.media.files import detach, stored_bytes, stored_photo

from .conftest import CONTACTS, FIGURES, FORMER, MEMBERS, OUTSIDERS, ROLES, SIGNED_IN, World, answers

pytestmark = pytest.mark.django_db

MISSING_KEY = "no-such-key-at-all"
VARIANTS = ("display", "thumbnail")

NOBODY = answers((ROLES, 404))
EVERYONE = answers((ROLES, 200))

# photo: who gets it (200) and who gets the missing file's 404
EXPECTED = {
    # A message's: the members who see the message.
    "group message": answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS, "anonymous"), 404)),
    "direct message": answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS, "anonymous"), 404)),
    # A post's: whoever may see the post.
    "public post": answers((tuple(role for role in ROLES if role != "blocked"), 200), ("blocked", 404)),
    "followers post": answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS, "anonymous"), 404)),
    "contacts post": answers((CONTACTS, 200), ((*OUTSIDERS, "anonymous"), 404)),
    # Its uploader's alone until attached.
    "unattached": answers(("owner", 200), (tuple(role for role in ROLES if role != "owner"), 404)),
    # Gone with what it belonged to: nobody, the owner included.
    "recalled message": NOBODY,
    "deleted post": NOBODY,
    # Not yet processed (or failed): not there for anyone.
    "processing": NOBODY,
    # An avatar: anyone.
    "avatar": EVERYONE,
}


def media_world(world: World) -> dict[str, Media]:
    owner = world.user("owner")
    recalled, _ = chat.message_send(sender=owner, conversation=world.group, body="soon recalled")
    deleted = microblog.post_create(author=owner, body="soon deleted", visibility="public")
    photos = {
        "group message": stored_photo(owner, attach_to=("message", world.message.pk)),
        "direct message": stored_photo(world.user("member"), attach_to=("message", world.direct_message.pk)),
        "public post": stored_photo(owner, attach_to=("post", world.posts["public"].pk)),
        "followers post": stored_photo(owner, attach_to=("post", world.posts["followers"].pk)),
        "contacts post": stored_photo(owner, attach_to=("post", world.posts["contacts"].pk)),
        "unattached": stored_photo(owner),
        "recalled message": stored_photo(owner, attach_to=("message", recalled.pk)),
        "deleted post": stored_photo(owner, attach_to=("post", deleted.pk)),
        "processing": stored_photo(owner, status=Media.Status.PROCESSING),
        "avatar": stored_photo(owner, attach_to=("avatar", owner.pk)),
    }
    chat.message_recall(user=owner, message_id=recalled.pk)
    detach("message", recalled.pk)
    microblog.post_delete(actor=owner, post=deleted)
    detach("post", deleted.pk)
    return photos


@pytest.fixture
def photos(world, settings, tmp_path) -> dict[str, Media]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SERVE = "direct"
    return media_world(world)


@pytest.fixture
def askers(world, client_for) -> dict[str, list[tuple[str, object]]]:
    """Each role's ways of asking: its token (the apps) and its session cookie (the pages)."""
    built = {"anonymous": [("nothing", APIClient())]}
    for role in SIGNED_IN:
        pages = Client()
        pages.force_login(world.user(role))
        built[role] = [("token", client_for(world.user(role))), ("session", pages)]
    return built


def fetch(client, path: str) -> tuple[int, dict, bytes]:
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, dict(response.items()), body


def test_each_role_gets_exactly_its_photos(photos, askers):
    assert set(EXPECTED) == set(photos)
    wrong = []
    for name, photo in photos.items():
        for role in ROLES:
            for way, client in askers[role]:
                for variant in VARIANTS:
                    where = f"{name} ({variant}) as {role} by {way}"
                    status, headers, body = fetch(client, f"/media/{photo.key}/{variant}")
                    FIGURES["media matrix: fetches"] += 1
                    expected = EXPECTED[name][role]
                    if status != expected:
                        wrong.append(f"{where}: {status} (expected {expected})")
                    elif status == 200 and body != stored_bytes(photo, variant):
                        wrong.append(f"{where}: 200 with other bytes")
                    elif status == 404:
                        FIGURES["media matrix: refusals compared with a missing key's"] += 1
                        if (status, headers, body) != fetch(client, f"/media/{MISSING_KEY}/{variant}"):
                            wrong.append(f"{where}: refused unlike a missing key: {headers} {body[:80]!r}")
    FIGURES["media matrix: leaks or wrong answers"] += len(wrong)
    assert not wrong, "\n".join(wrong)


# Voice clips and videos ----------------------------------------------------------------------

AV_VARIANTS = ("display", "thumbnail", "poster")
# (Range header, what an allowed caller gets): the first bytes, the last ones, past the end.
RANGES = (("bytes=0-9", 206), ("bytes=-100", 206), ("bytes=999999999-", 416))

# clip: who gets it. A voice clip has no thumbnail or poster: those are the missing file for all.
AV_EXPECTED = {
    "voice in a group message": EXPECTED["group message"],
    "voice in a direct message": EXPECTED["direct message"],
    "voice recalled": NOBODY,
    "voice unattached": EXPECTED["unattached"],
    "video in a group message": EXPECTED["group message"],
    "video in a direct message": EXPECTED["direct message"],
    "video in a public post": EXPECTED["public post"],
    "video in a followers post": EXPECTED["followers post"],
    "video in a contacts post": EXPECTED["contacts post"],
    "video in a deleted post": NOBODY,
    "video unattached": EXPECTED["unattached"],
    "video processing": NOBODY,
}


def av_world(world: World) -> dict[str, Media]:
    owner, member = world.user("owner"), world.user("member")
    recalled, _ = chat.message_send(sender=owner, conversation=world.group, body="soon recalled")
    deleted = microblog.post_create(author=owner, body="soon deleted", visibility="public")
    processing = stored_video(owner)
    Media.objects.filter(pk=processing.pk).update(status=Media.Status.PROCESSING)
    clips = {
        "voice in a group message": stored_voice(owner, attach_to=("message", world.message.pk)),
        "voice in a direct message": stored_voice(member, attach_to=("message", world.direct_message.pk)),
        "voice recalled": stored_voice(owner, attach_to=("message", recalled.pk)),
        "voice unattached": stored_voice(owner),
        "video in a group message": stored_video(owner, attach_to=("message", world.message.pk)),
        "video in a direct message": stored_video(member, attach_to=("message", world.direct_message.pk)),
        "video in a public post": stored_video(owner, attach_to=("post", world.posts["public"].pk)),
        "video in a followers post": stored_video(owner, attach_to=("post", world.posts["followers"].pk)),
        "video in a contacts post": stored_video(owner, attach_to=("post", world.posts["contacts"].pk)),
        "video in a deleted post": stored_video(owner, attach_to=("post", deleted.pk)),
        "video unattached": stored_video(owner),
        "video processing": processing,
    }
    chat.message_recall(user=owner, message_id=recalled.pk)
    detach("message", recalled.pk)
    microblog.post_delete(actor=owner, post=deleted)
    detach("post", deleted.pk)
    return clips


@pytest.fixture
def clips(world, settings, tmp_path) -> dict[str, Media]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SERVE = "direct"
    return av_world(world)


def fetch_with(client, path: str, **headers) -> tuple[int, dict, bytes]:
    response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, dict(response.items()), body


def test_each_role_gets_exactly_its_voice_clips_and_videos_whole_and_by_range(clips, askers):
    assert set(AV_EXPECTED) == set(clips)
    wrong = []
    for name, clip in clips.items():
        for role in ROLES:
            for way, client in askers[role]:
                for variant in AV_VARIANTS:
                    has_file = clip.kind == Media.Kind.VIDEO or variant == "display"
                    allowed = has_file and AV_EXPECTED[name][role] == 200
                    whole = stored_variant(clip, variant) if allowed else None
                    path = f"/media/{clip.key}/{variant}"
                    for asked, status_if_allowed in ((None, 200), *RANGES):
                        headers = {"HTTP_RANGE": asked} if asked else {}
                        where = f"{name} ({variant}, {asked or 'whole'}) as {role} by {way}"
                        status, answer_headers, body = fetch_with(client, path, **headers)
                        FIGURES["media matrix: voice and video fetches"] += 1
                        expected = status_if_allowed if allowed else 404
                        if status != expected:
                            wrong.append(f"{where}: {status} (expected {expected})")
                        elif status == 200 and body != whole:
                            wrong.append(f"{where}: 200 with other bytes")
                        elif status == 206 and body != (whole[:10] if asked == "bytes=0-9" else whole[-100:]):
                            wrong.append(f"{where}: 206 with other bytes")
                        elif status == 416 and answer_headers["Content-Range"] != f"bytes */{len(whole)}":
                            wrong.append(f"{where}: 416 saying {answer_headers['Content-Range']}")
                        elif status == 404:
                            FIGURES["media matrix: voice and video refusals compared with a missing key's"] += 1
                            missing = fetch_with(client, f"/media/{MISSING_KEY}/{variant}", **headers)
                            if (status, answer_headers, body) != missing:
                                wrong.append(f"{where}: refused unlike a missing key: {answer_headers} {body[:80]!r}")
    FIGURES["media matrix: voice and video leaks or wrong answers"] += len(wrong)
    assert not wrong, "\n".join(wrong)
