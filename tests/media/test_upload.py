"""Uploading photos over REST: what is taken, what is refused (storing nothing), what is served of it.

What is served is read back from storage (the serving view is media.views'): re-encoded, upright,
without metadata, at most MEDIA_DISPLAY_SIDE wide, with a square thumbnail.
"""

import struct
import time
import zlib
from io import BytesIO
from zipfile import ZipFile

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import ExifTags, Image

from accounts.services import token_for
from media import processing
from media.models import Media
from tests.live import own_daphne, rest
from tests.live import upload as live_upload

from .conftest import BASE_COLOUR, MARK_COLOUR, make_image, open_stored, png_chunk, stored_files, undecodable_png

pytestmark = pytest.mark.django_db


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def png_bomb(side: int = 20_000) -> bytes:
    """A PNG of side x side black pixels (1 bit each), a few tens of KB compressed."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def gif_javascript_polyglot() -> bytes:
    """A GIF whose header opens a JavaScript comment (`GIF89a/*`, its width) and whose end runs script."""
    gif = make_image("GIF")
    return b"GIF89a/*" + gif[8:] + b"*/=alert(document.domain)//"


def jpeg_with_zip() -> bytes:
    archive = BytesIO()
    with ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", "<p>hello</p>")
    return make_image("JPEG") + archive.getvalue()


def ready_row(media_id: int) -> Media:
    media = Media.objects.get(pk=media_id)
    assert media.status == Media.Status.READY, media.error
    return media


# What is taken ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "options"),
    [
        ("JPEG", {}),
        ("JPEG", {"mode": "CMYK"}),
        ("PNG", {}),
        ("PNG", {"mode": "P"}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("GIF", {}),
        ("HEIF", {}),
    ],
)
def test_every_accepted_format_is_taken_and_served_re_encoded(client_for, alice, upload, format, options):
    client = client_for(alice)
    response = upload(client, make_image(format, (640, 480), **options), name="picture.bin")
    assert response.status_code == 201, response.content
    assert response.json()["alt"] == ""
    media = client.get(f"/api/media/{response.json()['id']}/").json()
    assert media["status"] == "ready"
    assert media["kind"] == "image"
    assert media["url"] and media["thumbnail_url"]
    assert (media["width"], media["height"]) == (640, 480)
    assert media["blurhash"] and 20 <= len(media["blurhash"]) <= 64

    row = ready_row(media["id"])
    display = open_stored(row.display_name)
    assert display.format == "WEBP" and row.display_type == "image/webp"
    assert display.size == (640, 480)
    assert media["size"] == default_storage.size(row.display_name)
    assert close_to(display.convert("RGB").getpixel((10, 10)), MARK_COLOUR)
    assert close_to(display.convert("RGB").getpixel((630, 470)), BASE_COLOUR)
    thumbnail = open_stored(row.thumbnail_name)
    assert thumbnail.format == "WEBP" and thumbnail.size == (400, 400)
    # The original is gone once processed: only what is served stays.
    assert row.original_name == ""
    assert stored_files() == sorted([row.display_name, row.thumbnail_name])


def test_a_large_photo_is_shown_at_2048_on_its_long_side_and_its_thumbnail_is_a_centred_square(
    client_for, alice, uploaded
):
    media = uploaded(client_for(alice), make_image("JPEG", (4000, 1000), quality=80))
    assert (media["width"], media["height"]) == (2048, 512)
    row = ready_row(media["id"])
    assert open_stored(row.display_name).size == (2048, 512)
    thumbnail = open_stored(row.thumbnail_name).convert("RGB")
    assert thumbnail.size == (400, 400)
    # Cut from the middle (where the red top-left quarter ends): red on the left, blue on the right.
    assert close_to(thumbnail.getpixel((100, 100)), MARK_COLOUR)
    assert close_to(thumbnail.getpixel((300, 100)), BASE_COLOUR)


@pytest.mark.parametrize("format", ["GIF", "WEBP", "PNG"])
def test_an_animation_stays_animated(client_for, alice, uploaded, format):
    media = uploaded(client_for(alice), make_image(format, (120, 80), frames=4))
    row = ready_row(media["id"])
    display = open_stored(row.display_name)
    assert display.format == "WEBP"
    assert display.n_frames == 4
    colours = []
    for frame in range(display.n_frames):
        display.seek(frame)
        colours.append(display.convert("RGB").getpixel((110, 70)))
    assert all(close_to(seen, wanted) for seen, wanted in zip(colours, [(220, 30, 30), (30, 160, 60)], strict=False))
    assert open_stored(row.thumbnail_name).size == (400, 400)


def test_a_transparent_image_stays_transparent(client_for, alice, uploaded):
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 50, 50))
    png = BytesIO()
    image.save(png, "PNG")
    display = open_stored(ready_row(uploaded(client_for(alice), png.getvalue())["id"]).display_name)
    assert display.mode == "RGBA"
    assert display.getpixel((90, 90))[3] == 0
    assert close_to(display.getpixel((10, 10)), (200, 0, 0, 255))


def test_16_bit_greyscale_keeps_its_brightness(client_for, alice, uploaded):
    half_grey = make_image("PNG", (50, 50), mode="I;16", level=32768)
    display = open_stored(ready_row(uploaded(client_for(alice), half_grey)["id"]).display_name)
    assert close_to(display.convert("RGB").getpixel((25, 25)), (128, 128, 128), tolerance=6)


def test_a_phone_photo_is_shown_upright_and_without_its_metadata(client_for, alice, uploaded):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = 6  # held turned: shown turned a quarter clockwise
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (48.0, 51.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (2.0, 21.0, 0.0),
    }
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    photo = make_image("JPEG", (400, 200), exif=exif, comment=b"Home, 48.8575 N 2.35 E", xmp=xmp)
    assert Image.open(BytesIO(photo)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it was there

    media = uploaded(client_for(alice), photo)
    assert (media["width"], media["height"]) == (200, 400)
    row = ready_row(media["id"])
    for name in (row.display_name, row.thumbnail_name):
        shown = open_stored(name)
        assert not shown.getexif()
        assert not {"exif", "xmp", "comment"} & set(shown.info)
        with default_storage.open(name, "rb") as stored:
            raw = stored.read()
        assert b"Exif" not in raw and b"Phone" not in raw and b"48.8575" not in raw
    display = open_stored(row.display_name).convert("RGB")
    assert display.size == (200, 400)
    # The stored top-left corner is the shown top-right one.
    assert close_to(display.getpixel((190, 10)), MARK_COLOUR)
    assert close_to(display.getpixel((10, 10)), BASE_COLOUR)


def test_alt_text_is_kept_trimmed_and_limited_to_1500_characters(client_for, alice, upload):
    client = client_for(alice)
    taken = upload(client, make_image(), alt="  A cat on a mat.  ")
    assert taken.status_code == 201 and taken.json()["alt"] == "A cat on a mat."
    longest = upload(client, make_image(), alt="a" * 1500)
    assert longest.status_code == 201 and len(longest.json()["alt"]) == 1500
    refused = upload(client, make_image(), alt="a" * 1501)
    assert refused.status_code == 400
    assert "alt" in refused.json()
    assert Media.objects.count() == 2


def test_the_uploader_changes_the_alt_text(client_for, alice, uploaded):
    client = client_for(alice)
    media = uploaded(client)
    changed = client.patch(f"/api/media/{media['id']}/", {"alt": "Sunset over the bay"}, format="json")
    assert changed.status_code == 200 and changed.json()["alt"] == "Sunset over the bay"
    assert client.get(f"/api/media/{media['id']}/").json()["alt"] == "Sunset over the bay"
    too_long = client.patch(f"/api/media/{media['id']}/", {"alt": "b" * 1501}, format="json")
    assert too_long.status_code == 400
    assert client.get(f"/api/media/{media['id']}/").json()["alt"] == "Sunset over the bay"


def test_the_uploader_deletes_an_unattached_upload_and_its_files(
    client_for, alice, uploaded, django_capture_on_commit_callbacks
):
    client = client_for(alice)
    media = uploaded(client)
    assert len(stored_files()) == 2
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the row has
        response = client.delete(f"/api/media/{media['id']}/")
    assert response.status_code == 204
    assert client.get(f"/api/media/{media['id']}/").status_code == 404
    assert stored_files() == []


def test_an_attached_upload_cannot_be_deleted_on_its_own(client_for, alice, uploaded):
    client = client_for(alice)
    media = uploaded(client)
    # Attached as media.attach does it (a post's photo).
    Media.objects.filter(pk=media["id"]).update(attached_kind="post", attached_id=1)
    response = client.delete(f"/api/media/{media['id']}/")
    assert response.status_code == 409
    assert response.json()["code"] == "attached"
    assert client.get(f"/api/media/{media['id']}/").status_code == 200
    assert len(stored_files()) == 2


def test_someone_elses_upload_answers_as_a_missing_one(client_for, alice, bob, uploaded):
    media = uploaded(client_for(alice), alt="mine")
    stranger = client_for(bob)
    missing = max(media["id"], 0) + 1000
    for method, body in (("get", None), ("patch", {"alt": "theirs now"}), ("delete", None)):
        theirs = getattr(stranger, method)(f"/api/media/{media['id']}/", body, format="json")
        nothing = getattr(stranger, method)(f"/api/media/{missing}/", body, format="json")
        assert theirs.status_code == nothing.status_code == 404, method
        assert theirs.json() == nothing.json()
    assert client_for(alice).get(f"/api/media/{media['id']}/").json()["alt"] == "mine"
    assert len(stored_files()) == 2


def test_visitors_cannot_upload(api, upload):
    response = upload(api, make_image())
    assert response.status_code in (401, 403)
    assert not Media.objects.exists() and stored_files() == []


# What is refused, storing nothing -----------------------------------------------------------

SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "content_type", "data", "code"),
    [
        ("drawing.svg", "image/svg+xml", SVG_WITH_SCRIPT, "not_an_image"),
        ("photo.jpg", "image/jpeg", HTML_PAGE, "not_an_image"),
        ("photo.jpg", "image/jpeg", SVG_WITH_SCRIPT, "not_an_image"),
        ("scan.pdf", "application/pdf", PDF, "not_an_image"),
        ("photo.jpg", "image/jpeg", make_image("JPEG", (300, 200))[:-300], "truncated"),
        ("photo.png", "image/png", make_image("PNG", (300, 200))[:-12], "truncated"),
        ("funny.gif", "image/gif", gif_javascript_polyglot(), "polyglot"),
        ("photo.jpg", "image/jpeg", jpeg_with_zip(), "polyglot"),
        ("photo.png", "image/png", make_image("PNG") + b"<?php system($_GET['c']); ?>", "polyglot"),
        ("photo.jpg", "image/jpeg", make_image("JPEG", comment=b"<script>alert(1)</script>"), "polyglot"),
        ("photo.webp", "image/webp", make_image("WEBP") + b"trailing", "polyglot"),
    ],
    ids=[
        "svg-with-script",
        "html-named-jpg",
        "svg-named-jpg",
        "pdf",
        "truncated-jpeg",
        "png-cut-before-iend",
        "gif-javascript-polyglot",
        "jpeg-with-zip",
        "png-with-php",
        "jpeg-comment-with-script",
        "webp-past-its-riff-length",
    ],
)
def test_what_is_not_an_acceptable_image_is_refused_with_a_reason_and_nothing_is_stored(
    client_for, alice, upload, name, content_type, data, code
):
    response = upload(client_for(alice), data, name=name, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert len(response.json()["detail"]) > 20
    assert not Media.objects.exists()
    assert stored_files() == []


def test_a_png_bomb_is_refused_from_its_header_at_once(client_for, alice, upload):
    bomb = png_bomb(20_000)
    assert len(bomb) < 100_000  # 400 million pixels in a few tens of KB
    started = time.monotonic()
    response = upload(client_for(alice), bomb, name="tiny.png", content_type="image/png")
    assert time.monotonic() - started < 1.0
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_pixels"
    assert not Media.objects.exists() and stored_files() == []


@override_settings(MEDIA_IMAGE_MAX_FRAMES=3)
def test_an_animation_past_the_frame_limit_is_refused(client_for, alice, upload):
    response = upload(client_for(alice), make_image("GIF", (40, 40), frames=4))
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_frames"
    assert not Media.objects.exists()


@override_settings(MEDIA_IMAGE_MAX_BYTES=2000)
def test_an_image_past_the_size_limit_gets_413(client_for, alice, upload):
    large = make_image("JPEG", (400, 400), quality=95)
    assert len(large) > 2000
    response = upload(client_for(alice), large)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Media.objects.exists() and stored_files() == []


@override_settings(MEDIA_IMAGE_MAX_BYTES=2000, MEDIA_AUDIO_MAX_BYTES=1000, MEDIA_VIDEO_MAX_BYTES=3000)
def test_a_body_past_the_upload_limit_gets_413_before_it_is_read(client_for, alice):
    # The largest kind's limit (a video's) plus the multipart envelope's 64 KiB; the view never runs.
    body = b"x" * (3000 + 64 * 1024 + 1)
    response = client_for(alice).generic("POST", "/api/media/", body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert not Media.objects.exists()


def test_the_upload_path_takes_images_past_the_limit_of_other_bodies(client_for, alice, upload, settings):
    # Noise compresses badly: a few hundred KB, past the 256 KB every JSON or form body is held to.
    noisy = BytesIO()
    Image.effect_noise((600, 600), 80).convert("RGB").save(noisy, "PNG")
    assert len(noisy.getvalue()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = upload(client_for(alice), noisy.getvalue(), name="noise.png")
    assert response.status_code == 201
    assert Media.objects.get().status == Media.Status.READY


def test_uploads_past_the_rate_limit_get_429_with_retry_after(client_for, alice, upload, settings):
    settings.ACTION_LIMITS = {**settings.ACTION_LIMITS, "media-upload": (2, settings.ACTION_LIMITS["post"][1])}
    client = client_for(alice)
    assert [upload(client, make_image()).status_code for _ in range(2)] == [201, 201]
    refused = upload(client, make_image())
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "rate_limited"
    assert Media.objects.count() == 2 and len(stored_files()) == 4


# Processing ---------------------------------------------------------------------------------


def test_an_image_whose_data_does_not_decode_fails_with_the_reason_and_keeps_no_file(client_for, alice, upload):
    client = client_for(alice)
    response = upload(client, undecodable_png(), name="broken.png")
    assert response.status_code == 201
    media = client.get(f"/api/media/{response.json()['id']}/").json()
    assert media["status"] == "failed"
    assert media["url"] is None and media["thumbnail_url"] is None
    assert "could not be decoded" in Media.objects.get().error
    assert stored_files() == []


def test_processing_an_upload_again_changes_nothing(client_for, alice, uploaded):
    media = uploaded(client_for(alice))
    before = Media.objects.values().get(pk=media["id"])
    files = stored_files()
    processing.process(media["id"])
    assert Media.objects.values().get(pk=media["id"]) == before
    assert stored_files() == files


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_in_a_thread_the_upload_answers_processing_then_turns_ready(alice):
    # Big enough that processing (a few hundred ms) is still going when the upload answers.
    photo = BytesIO()
    Image.effect_noise((3000, 2000), 60).convert("RGB").save(photo, "JPEG", quality=90)
    token = token_for(user=alice).key
    with own_daphne(MEDIA_PROCESSING="thread") as server:
        answer = live_upload(server, token, photo.getvalue(), alt="Noise")
        status, media = answer.status, answer.data
        assert status == 201, media
        assert media["status"] == "processing" and media["url"] is None
        deadline = time.monotonic() + 20
        while media["status"] == "processing" and time.monotonic() < deadline:
            time.sleep(0.1)
            media = get_json(server, token, f"/api/media/{media['id']}/")
    assert media["status"] == "ready"
    assert (media["width"], media["height"]) == (2048, 1365)
    assert media["url"] and media["thumbnail_url"] and media["blurhash"]
    assert len(stored_files()) == 2


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_malformed_multipart_body_gets_the_apis_json_400_from_daphne(live_daphne, alice):
    not_multipart = b"--not-the-boundary\r\nnothing here"
    headers = {"Content-Type": "multipart/form-data; boundary=tandem-test-boundary"}
    answer = rest(live_daphne, alice, "POST", "/api/media/", raw=not_multipart, headers=headers)
    assert answer.status == 400
    assert answer.data == {"file": ["No file was submitted."]}  # DRF's answer, not Twisted's bare page
    assert not Media.objects.exists()


def get_json(server, token: str, path: str) -> dict:
    return rest(server, token, "GET", path).json()
