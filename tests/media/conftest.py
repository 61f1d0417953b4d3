"""What media tests share: images made now with Pillow, an empty storage around each test, uploads.

- `make_image(format, size, ...)` (and the `image_bytes` fixture, the same function): the bytes of
  an image in any format Pillow (with pillow-heif) writes, with a marked corner so a test can
  tell which way up it is shown, frames of different colours for an animation, EXIF, ...
- `undecodable_png()`: taken at upload, failing in processing; `png_chunk` to build other such PNGs.
- `media_root` (autouse for tests/media): MEDIA_ROOT is emptied before and after each test, so
  what a test finds stored is what it stored; `stored_files()` lists it through default_storage.
- `upload(client, data, ...)`: POST /api/media/ as a client does, running what waits for the
  commit (inline processing) before it returns; `uploaded(client, ...)` also checks the upload
  was taken and returns the media object once processed.
"""

import shutil
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pillow_heif
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

pillow_heif.register_heif_opener()

BASE_COLOUR = (30, 90, 200)  # blue
MARK_COLOUR = (220, 30, 30)  # red: the top-left quarter, as stored
FRAME_COLOURS = [(220, 30, 30), (30, 160, 60), (30, 90, 200), (240, 200, 40)]


def make_image(
    format: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    *,
    mode: str = "RGB",
    frames: int = 1,
    marked: bool = True,
    **save_options,
) -> bytes:
    """An image as `format` ("JPEG", "PNG", "WEBP", "GIF", "HEIF") would store it.

    Its top-left quarter is MARK_COLOUR on BASE_COLOUR (`marked=False`: one flat colour), so after
    processing a test can find where that corner went. `frames` > 1 makes an animation whose
    frames have different colours (encoders merge identical frames), 100 ms each, looping.
    `mode` is the stored mode ("RGBA", "L", "CMYK", "I;16", ...); anything else goes to Pillow's
    `save` (`exif=`, `comment=`, `xmp=`, `quality=`, ...).
    """
    width, height = size

    def picture(colour) -> Image.Image:
        image = Image.new("RGB", size, colour)
        if marked:
            ImageDraw.Draw(image).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=MARK_COLOUR)
        return image if mode == "RGB" else image.convert(mode)

    output = BytesIO()
    if frames > 1:
        images = [picture(FRAME_COLOURS[n % len(FRAME_COLOURS)]) for n in range(frames)]
        save_options = {"duration": 100, "loop": 0, **save_options}
        images[0].save(output, format, save_all=True, append_images=images[1:], **save_options)
    elif mode == "I;16":
        Image.new("I;16", size, save_options.pop("level", 32768)).save(output, format, **save_options)
    else:
        picture(BASE_COLOUR).save(output, format, **save_options)
    return output.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk, its length and checksum right: for building PNGs Pillow would not write."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def undecodable_png() -> bytes:
    """A PNG whose structure is whole (the upload is taken) but whose compressed data is noise:
    its processing fails."""
    header = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"\x13" * 64) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.fixture
def image_bytes():
    """`image_bytes(format, size, ...)`: make_image, for tests that prefer a fixture to an import."""
    return make_image


def stored_files(directory: str = "") -> list[str]:
    """Every file in default_storage (whichever backend), as sorted names."""
    try:
        directories, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return []
    found = [f"{directory}{name}" for name in files]
    for child in directories:
        found += stored_files(f"{directory}{child}/")
    return sorted(found)


@pytest.fixture(autouse=True)
def media_root(settings) -> Path:
    """MEDIA_ROOT, empty when the test starts, emptied again when it ends."""
    root = Path(settings.MEDIA_ROOT)
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def open_stored(name: str) -> Image.Image:
    """A stored file, read back with Pillow (loaded, the file closed)."""
    with default_storage.open(name, "rb") as stored:
        image = Image.open(BytesIO(stored.read()))
        image.load()
    return image


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """`upload(client, data, name=, content_type=, alt=)`: the response to POST /api/media/.

    What the upload left for after its commit (processing, in the tests' inline mode) has run when
    this returns; the response itself shows the upload as the service answered it (`processing`
    inside the test's transaction).
    """

    def post(client, data: bytes, *, name="photo.jpg", content_type="image/jpeg", alt=None):
        body = {"file": SimpleUploadedFile(name, data, content_type=content_type)}
        if alt is not None:
            body["alt"] = alt
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/media/", body, format="multipart")

    return post


@pytest.fixture
def uploaded(upload):
    """`uploaded(client, data=None, **upload options)`: a taken, processed upload's media object (a JPEG by default)."""

    def post(client, data: bytes | None = None, **options) -> dict:
        response = upload(client, make_image() if data is None else data, **options)
        assert response.status_code == 201, response.content
        media = client.get(f"/api/media/{response.json()['id']}/").json()
        assert media["status"] == "ready", media
        return media

    return post
