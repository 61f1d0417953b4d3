"""What an upload is, decided from its bytes alone, and whether Tandem takes it.

Neither the file's name nor the Content-Type its sender claimed count: the type is the one whose
structure the bytes follow, and Pillow must then read the header as that type. Accepted: JPEG,
PNG (APNG too), WebP, GIF, HEIC/HEIF. Refused with `MediaRefused` (400, a `code` and a reason):

- `not_an_image`: anything else (SVG, HTML, PDF, AVIF, ...);
- `truncated`: the data ends before the image does (no JPEG EOI, no PNG IEND, no GIF trailer, a
  WebP shorter than its RIFF length, a HEIF box running past the end);
- `corrupt`: the structure is not the format's (a bad chunk CRC, an unknown GIF block, ...);
- `polyglot`: bytes after the image's own end (a ZIP after a JPEG, script after a GIF's trailer),
  or markup or script anywhere in the file (`<script`, `<html`, `<svg onload=`, `<?php`, ...);
- `too_many_pixels`: past MEDIA_IMAGE_MAX_PIXELS per frame, read from the header before anything
  is decoded (a 20,000 x 20,000 PNG of a few KB is refused in milliseconds), or an animation past
  ANIMATION_PIXELS_FACTOR times that for all its frames together;
- `too_many_frames`: past MEDIA_IMAGE_MAX_FRAMES.

The check walks the format's structure (segments, chunks, blocks, boxes) without decoding pixels,
so an upload answers quickly even when processing runs elsewhere (media.processing decodes). HEIF
has no cheap structural check of its coded data, so it is decoded here once.

Served files are re-encoded from decoded pixels, so nothing of the original reaches a viewer;
refusing polyglots and markup keeps such files out of storage and out of anyone's download.
"""

import re
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

import pillow_heif
from django.conf import settings
from PIL import ExifTags, Image, UnidentifiedImageError

from common.errors import ServiceError

# Extra images of a HEIF (thumbnails, depth maps) are never used: not decoding them saves the memory.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF")
# An animation's frames together may hold this many times MEDIA_IMAGE_MAX_PIXELS: 300 frames of
# 50 megapixels would take minutes of a worker to decode and resize.
ANIMATION_PIXELS_FACTOR = 10
# Orientations (EXIF 0x0112) that turn the image a quarter: width and height swap.
QUARTER_TURNS = {5, 6, 7, 8}

# HTML, SVG and PHP openings, case-insensitive, looked for anywhere in the file. The short ones need
# what makes them markup after them (`<svg onload=`, `<html>`): in compressed image data `<svg`
# alone would come by chance about once in 3 MB.
MARKUP = re.compile(
    rb"(?i)<(?:script|iframe|object[\s/>]|embed[\s/>]|html[\s>]|\?php\s|!doctype\s+html"
    rb"|(?:svg|body|img)[\s/]+[a-z][a-z-]*\s*=)"
)
# In a JPEG's entropy-coded data: 0xFF then a marker (not a stuffed 0x00, a restart marker or fill).
JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size.
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# ISO base media brands of HEIC/HEIF; AVIF shares the container ("mif1") but is not taken.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}
BOX_TYPE = re.compile(rb"[A-Za-z0-9 ]{4}")


class MediaRefused(ServiceError):
    """An upload that is not an image Tandem takes: 400 with a `code` and a reason for people."""

    status = 400

    def __init__(self, code: str, detail: str):
        super().__init__(code, detail, 400)


@dataclass(frozen=True)
class Inspected:
    format: str  # one of ACCEPTED_FORMATS
    width: int  # as shown: after the EXIF orientation
    height: int
    frames: int

    @property
    def animated(self) -> bool:
        return self.frames > 1


@dataclass(frozen=True)
class _Structure:
    width: int  # the largest canvas any frame needs, as stored (before orientation)
    height: int
    frames: int


def _truncated() -> MediaRefused:
    return MediaRefused("truncated", "This image is incomplete: the file ends before the image does.")


def _corrupt(what: str) -> MediaRefused:
    return MediaRefused("corrupt", f"This image is damaged: {what}.")


def _trailing(format_name: str) -> MediaRefused:
    return MediaRefused("polyglot", f"This file carries other data after the end of its {format_name} image.")


def _u16be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u32be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _u16le(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "little")


def _u24le(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "little")


def _u32le(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


# Which format the bytes claim ---------------------------------------------------------------


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and len(data) >= 16:
        box_end = min(_u32be(data, 0), len(data))
        major = data[8:12]
        compatible = {data[at : at + 4] for at in range(16, box_end - 3, 4)}
        if major not in AVIF_BRANDS and (major in HEIF_BRANDS or compatible & HEIF_BRANDS):
            return "HEIF"
    raise MediaRefused("not_an_image", "This file is not an image Tandem accepts (JPEG, PNG, WebP, GIF or HEIC).")


# The structure of each format, walked without decoding ---------------------------------------


def _jpeg_image_end(data: bytes, pos: int, sizes: list[tuple[int, int]]) -> int:
    """The offset just past the EOI of the JPEG starting at `pos` (its SOI); its frame size goes in `sizes`."""
    end = len(data)
    pos += 2
    while True:
        if pos >= end:
            raise _truncated()
        if data[pos] != 0xFF:
            raise _corrupt("a JPEG segment does not start with a marker")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            raise _truncated()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        if marker in (0x00, 0xD8):
            raise _corrupt("a JPEG holds a stray marker")
        if pos + 2 > end:
            raise _truncated()
        length = _u16be(data, pos)
        if length < 2:
            raise _corrupt("a JPEG segment has an impossible length")
        if pos + length > end:
            raise _truncated()
        if marker in JPEG_SOF:
            if length < 7:
                raise _corrupt("a JPEG frame header is too short")
            height, width = _u16be(data, pos + 3), _u16be(data, pos + 5)
            if not width or not height:
                raise _corrupt("a JPEG frame has no size")
            sizes.append((width, height))
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            found = JPEG_MARKER.search(data, pos)
            if found is None:
                raise _truncated()
            pos = found.start()


def _walk_jpeg(data: bytes) -> _Structure:
    sizes: list[tuple[int, int]] = []
    pos = _jpeg_image_end(data, 0, sizes)
    if not sizes:
        raise _corrupt("the JPEG has no frame")
    width, height = sizes[0]
    # Cameras and phones append more JPEGs (CIPA Multi-Picture Format: previews, HDR gain maps),
    # sometimes with zero padding; anything else after the last one is not theirs.
    while pos < len(data):
        if data[pos] == 0:
            pos += 1
            continue
        if data.startswith(b"\xff\xd8\xff", pos):
            extra: list[tuple[int, int]] = []
            pos = _jpeg_image_end(data, pos, extra)
            if any(w * h > settings.MEDIA_IMAGE_MAX_PIXELS for w, h in extra):
                _refuse_pixels(*max(extra, key=lambda size: size[0] * size[1]))
            continue
        raise _trailing("JPEG")
    return _Structure(width, height, 1)


def _walk_png(data: bytes) -> _Structure:
    view = memoryview(data)  # chunk bodies are checksummed in place, not copied
    end = len(data)
    pos = 8
    width = height = 0
    animation_frames = 0
    first = True
    while True:
        if pos + 8 > end:
            raise _truncated()
        length = _u32be(data, pos)
        chunk_type = data[pos + 4 : pos + 8]
        if length > 0x7FFFFFFF or not chunk_type.isalpha():
            raise _corrupt("a PNG chunk header is invalid")
        chunk_end = pos + 12 + length
        if chunk_end > end:
            raise _truncated()
        body = view[pos + 8 : pos + 8 + length]
        if zlib.crc32(body, zlib.crc32(chunk_type)) != _u32be(data, pos + 8 + length):
            raise _corrupt(f"the PNG chunk {chunk_type.decode()} fails its checksum")
        if first:
            if chunk_type != b"IHDR" or length < 8:
                raise _corrupt("the PNG does not start with its header")
            width, height = _u32be(data, pos + 8), _u32be(data, pos + 12)
            first = False
        elif chunk_type == b"fcTL":
            animation_frames += 1
        pos = chunk_end
        if chunk_type == b"IEND":
            break
    if pos != end:
        raise _trailing("PNG")
    if not width or not height:
        raise _corrupt("the PNG has no size")
    return _Structure(width, height, max(1, animation_frames))


def _gif_sub_blocks_end(data: bytes, pos: int) -> int:
    end = len(data)
    while True:
        if pos >= end:
            raise _truncated()
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def _walk_gif(data: bytes) -> _Structure:
    end = len(data)
    if end < 13:
        raise _truncated()
    width, height, flags = _u16le(data, 6), _u16le(data, 8), data[10]
    pos = 13
    if flags & 0x80:  # global colour table
        pos += 3 << ((flags & 7) + 1)
    frames = 0
    canvas_width, canvas_height = width, height
    while True:
        if pos >= end:
            raise _truncated()
        introducer = data[pos]
        if introducer == 0x3B:  # trailer
            pos += 1
            break
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos = _gif_sub_blocks_end(data, pos + 2)
        elif introducer == 0x2C:  # image: descriptor, local colour table, LZW code size, data
            if pos + 10 > end:
                raise _truncated()
            left, top = _u16le(data, pos + 1), _u16le(data, pos + 3)
            frame_width, frame_height, frame_flags = _u16le(data, pos + 5), _u16le(data, pos + 7), data[pos + 9]
            # Pillow grows the canvas to hold a frame that reaches past it.
            canvas_width = max(canvas_width, left + frame_width)
            canvas_height = max(canvas_height, top + frame_height)
            pos += 10
            if frame_flags & 0x80:
                pos += 3 << ((frame_flags & 7) + 1)
            pos = _gif_sub_blocks_end(data, pos + 1)
            frames += 1
        else:
            raise _corrupt("the GIF holds an unknown block")
    if pos != end:
        raise _trailing("GIF")
    if not frames:
        raise _corrupt("the GIF has no image")
    if not canvas_width or not canvas_height:
        raise _corrupt("the GIF has no size")
    return _Structure(canvas_width, canvas_height, frames)


def _webp_bitstream_size(chunk_type: bytes, body: bytes) -> tuple[int, int] | None:
    if chunk_type == b"VP8X" and len(body) >= 10:
        return _u24le(body, 4) + 1, _u24le(body, 7) + 1
    if chunk_type == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        return _u16le(body, 6) & 0x3FFF, _u16le(body, 8) & 0x3FFF
    if chunk_type == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = _u32le(body, 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _walk_webp(data: bytes) -> _Structure:
    if len(data) < 12:
        raise _truncated()
    riff_end = 8 + _u32le(data, 4)
    if riff_end > len(data):
        raise _truncated()
    if riff_end < len(data):
        raise _trailing("WebP")
    pos = 12
    size = None
    frames = 0
    first = True
    while pos < riff_end:
        if pos + 8 > riff_end:
            raise _truncated()
        chunk_type, length = data[pos : pos + 4], _u32le(data, pos + 4)
        chunk_end = pos + 8 + length + (length & 1)
        if chunk_end > riff_end:
            # A missing final pad byte is common and harmless; anything shorter is cut off.
            if pos + 8 + length != riff_end:
                raise _truncated()
            chunk_end = riff_end
        if first:
            if chunk_type not in (b"VP8 ", b"VP8L", b"VP8X"):
                raise _corrupt("the WebP does not start with an image chunk")
            size = _webp_bitstream_size(chunk_type, data[pos + 8 : pos + 8 + min(length, 16)])
            first = False
        if chunk_type == b"ANMF":
            frames += 1
        pos = chunk_end
    if size is None or not size[0] or not size[1]:
        raise _corrupt("the WebP has no readable size")
    return _Structure(size[0], size[1], max(1, frames))


def _walk_heif(data: bytes) -> _Structure:
    """Top-level ISO boxes end to end; the size comes from the HEIF reader (see inspect_image)."""
    end = len(data)
    pos = 0
    while pos < end:
        if pos + 8 > end or not BOX_TYPE.fullmatch(data[pos + 4 : pos + 8]):
            raise _trailing("HEIF")
        size, header = _u32be(data, pos), 8
        if size == 1:
            if pos + 16 > end:
                raise _truncated()
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:  # the last box, to the end of the file
            size = end - pos
        if size < header:
            raise _corrupt("a HEIF box has an impossible size")
        if pos + size > end:
            raise _truncated()
        pos += size
    return _Structure(0, 0, 1)


WALKERS = {"JPEG": _walk_jpeg, "PNG": _walk_png, "GIF": _walk_gif, "WEBP": _walk_webp, "HEIF": _walk_heif}


# Limits -------------------------------------------------------------------------------------


def _refuse_pixels(width: int, height: int) -> None:
    limit = settings.MEDIA_IMAGE_MAX_PIXELS
    raise MediaRefused(
        "too_many_pixels",
        f"This image is too large: {width} × {height} pixels, past the limit of {limit:,} pixels.",
    )


def check_limits(width: int, height: int, frames: int) -> None:
    """Refuses a size or an animation past the settings (media.processing checks the decoded one too)."""
    if width * height > settings.MEDIA_IMAGE_MAX_PIXELS:
        _refuse_pixels(width, height)
    if frames > settings.MEDIA_IMAGE_MAX_FRAMES:
        raise MediaRefused(
            "too_many_frames",
            f"This animation has {frames} frames, past the limit of {settings.MEDIA_IMAGE_MAX_FRAMES}.",
        )
    if frames * width * height > ANIMATION_PIXELS_FACTOR * settings.MEDIA_IMAGE_MAX_PIXELS:
        raise MediaRefused(
            "too_many_pixels",
            f"This animation is too large: {frames} frames of {width} × {height} pixels.",
        )


@contextmanager
def decompression_bombs_refused():
    """Pillow's DecompressionBombWarning raised as an error (Pillow raises past twice its limit itself).

    Every size was checked against MEDIA_IMAGE_MAX_PIXELS before Pillow sees it; this is for what
    Pillow finds while reading (a GIF frame growing the canvas). `catch_warnings` swaps the
    process-wide filters, so two threads inside at once may leave this filter installed after
    both: it only turns warnings about decompression bombs into errors, which is what is wanted.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def orientation(info: dict) -> int:
    """The EXIF orientation in a Pillow image's `info` (1 when none), read without decoding pixels."""
    raw = info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    try:
        exif.load(raw)
        value = int(exif.get(ExifTags.Base.Orientation, 1))
    except Exception:  # unreadable EXIF turns nothing (processing drops it anyway)
        return 1
    return value if 1 <= value <= 8 else 1


# The check ----------------------------------------------------------------------------------


def read_all(file) -> bytes:
    """All the bytes of an uploaded file (at most MEDIA_IMAGE_MAX_BYTES: the caller checked the size)."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def looks_like_image(head: bytes) -> bool:
    """Whether the first bytes of a file (a few KB) claim an image format Tandem takes: its structure
    is checked by `inspect_image`; anything else is for media.audiovisual."""
    try:
        _sniff(head)
    except MediaRefused:
        return False
    return True


def inspect_image(file) -> Inspected:
    """What the image in `file` (an upload, or any binary file object) is; MediaRefused if Tandem does not take it."""
    data = read_all(file)
    return inspect_bytes(data)


def inspect_bytes(data: bytes) -> Inspected:
    format_name = _sniff(data)
    structure = WALKERS[format_name](data)
    if MARKUP.search(data):
        raise MediaRefused("polyglot", "This file carries markup or script inside the image.")
    if format_name != "HEIF":
        check_limits(structure.width, structure.height, structure.frames)
    try:
        with decompression_bombs_refused(), Image.open(BytesIO(data), formats=[format_name]) as image:
            width, height = image.size
            check_limits(width, height, structure.frames)
            if format_name == "HEIF":
                # The HEIF reader shows the image already turned (and says orientation 1).
                image.load()
            turns = orientation(image.info)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRefused("too_many_pixels", "This image holds more pixels than Tandem takes.") from exc
    except (UnidentifiedImageError, SyntaxError, ValueError, OSError, EOFError) as exc:
        raise MediaRefused("corrupt", f"This image could not be read as {format_name}.") from exc
    if turns in QUARTER_TURNS:
        width, height = height, width
    return Inspected(format=format_name, width=width, height=height, frames=structure.frames)
