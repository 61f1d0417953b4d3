"""Turning a checked upload into what is served: the display file, the thumbnail and the placeholder.

Never on the event loop. `schedule` hands the work to where settings.MEDIA_PROCESSING says:
a thread pool in this process (the embedded default), Celery workers (`media.tasks`), or the
caller's own thread ("inline", for tests and management commands).

`process` decodes the stored original (media.inspect checked its structure at upload), turns it
upright (EXIF orientation), and encodes it again from pixels alone: nothing of the original's
metadata (EXIF with its GPS position, XMP, comments) or of its bytes reaches a viewer; only an RGB
colour profile is kept, so colours show as shot. It writes:

- the display file: at most MEDIA_DISPLAY_SIDE on its long side, still animated if the upload was
  (GIF, animated WebP, APNG), its frames made smaller when there are many (ANIMATION_DISPLAY_PIXELS);
- the thumbnail: a MEDIA_THUMBNAIL_SIDE square cut from the centre (the first frame of an animation);
- the blurhash, a placeholder a client draws while the file loads.

It runs at most once to the end per upload: a second call for one that is ready (or failed, or
deleted meanwhile) does nothing, and of two calls racing the first to finish wins; the other
removes what it wrote.
"""

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO

import blurhash
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection
from PIL import Image, ImageCms, ImageOps, ImageSequence

from . import audiovisual
from .inspect import check_limits, decompression_bombs_refused
from .models import Media

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Encoding:
    pillow_format: str
    content_type: str
    extension: str
    options: dict = field(default_factory=dict)
    alpha: bool = False
    animation: bool = False


WEBP = Encoding("WEBP", "image/webp", "webp", {"quality": 80, "method": 4}, alpha=True, animation=True)
JPEG = Encoding("JPEG", "image/jpeg", "jpg", {"quality": 85, "optimize": True, "progressive": True})
# What display files and thumbnails are written as. Measured on a 12-megapixel photo-like image
# (4000 x 3000, from a camera-like JPEG at quality 92, shown at 2048 x 1536): WebP at quality 80
# came out 27% smaller than JPEG at quality 85 for the same PSNR (633 KiB and 33.8 dB against
# 867 KiB and 33.8 dB), its encoding taking 280 ms instead of 57 ms, on top of the 300 ms of
# decoding and downscaling both share. The bytes are served many times, the encoding is paid once;
# and WebP also keeps transparency and animation, which JPEG cannot.
ENCODING = WEBP

# An animation's display frames together hold at most this many pixels (4 bytes each while
# encoding: 256 MB); past it the frames are made smaller than MEDIA_DISPLAY_SIDE.
ANIMATION_DISPLAY_PIXELS = 64_000_000
# Browsers show GIF frames of 10 ms or less for 100 ms; the WebP written keeps what was seen.
SHORTEST_FRAME_MS = 20
DEFAULT_FRAME_MS = 100
# The blurhash is computed on a downscale this wide (pure Python: 32 x 32 takes a few ms).
BLURHASH_SIDE = 32
SRGB = ImageCms.createProfile("sRGB")


def storage_name(key: str, variant: str, extension: str = "") -> str:
    """Where a file of the upload `key` is stored: media/<key[:2]>/<key>-<variant>[.<extension>]."""
    suffix = f".{extension}" if extension else ""
    return f"media/{key[:2]}/{key}-{variant}{suffix}"


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="media")


def _in_thread(media_id: int) -> None:
    close_old_connections()
    try:
        process(media_id)
    except Exception:
        # Nobody reads the pool's futures: say it here, or it is never seen.
        logger.exception("processing upload %s failed", media_id)
    finally:
        # A pool thread may sit idle for hours: it holds no database connection meanwhile.
        connection.close()


def schedule(media_id: int) -> None:
    """Processes the upload `media_id` (already committed) where settings.MEDIA_PROCESSING says."""
    mode = settings.MEDIA_PROCESSING
    if mode == "inline":
        process(media_id)
    elif mode == "celery":
        from .tasks import process_media

        process_media.delay(media_id)
    else:
        _pool().submit(_in_thread, media_id)


# Rendering: bytes in, the files' bytes out -------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    display: bytes
    thumbnail: bytes
    width: int
    height: int
    blurhash: str


def _icc_colour_space(icc: bytes | None) -> str | None:
    if not icc:
        return None
    try:
        return ImageCms.ImageCmsProfile(BytesIO(icc)).profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return None


def _normalised(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """`image` as RGB, or RGBA when some pixel is transparent, and the colour profile that still fits it."""
    space = _icc_colour_space(icc)
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: Pillow's conversion to 8 bits clips instead of scaling.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode == "CMYK":
        if space == "CMYK":
            try:
                return ImageCms.profileToProfile(image, BytesIO(icc), SRGB, outputMode="RGB"), None
            except ImageCms.PyCMSError:
                pass
        return image.convert("RGB"), None
    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    image = image.convert("RGBA" if transparent else "RGB")
    if transparent and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    if image.mode == "RGBA" and not ENCODING.alpha:
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    return image, (icc if space == "RGB" else None)


def _encode(image: Image.Image, icc: bytes | None, **more) -> bytes:
    # Nothing of the source's info (EXIF, XMP, comments) may ride along: some encoders read it.
    image.info = {}
    output = BytesIO()
    options = {**ENCODING.options, **more}
    if icc:
        options["icc_profile"] = icc
    image.save(output, ENCODING.pillow_format, **options)
    return output.getvalue()


def _blurhash(image: Image.Image) -> str:
    small = image.copy()
    small.thumbnail((BLURHASH_SIDE, BLURHASH_SIDE), Image.Resampling.BILINEAR)
    if small.mode == "RGBA":
        flat = Image.new("RGB", small.size, "white")
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    width, height = small.size
    raw = small.convert("RGB").tobytes()
    rows = [[raw[at : at + 3] for at in range(row * width * 3, (row + 1) * width * 3, 3)] for row in range(height)]
    x_components, y_components = (4, 3) if width >= height else (3, 4)
    return blurhash.encode(rows, x_components, y_components)


def _thumbnail(image: Image.Image) -> Image.Image:
    side = settings.MEDIA_THUMBNAIL_SIDE
    return ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)


def _render_still(image: Image.Image) -> Rendered:
    side = settings.MEDIA_DISPLAY_SIDE
    icc = image.info.get("icc_profile")
    if image.format == "JPEG":
        # Decode at 1/2, 1/4 or 1/8 when that still covers the display size (a 48-megapixel photo).
        image.draft("RGB", (side, side))
    image.load()
    # In place, and the display made from the same pixels: a 50-megapixel photo is held once, not thrice.
    ImageOps.exif_transpose(image, in_place=True)
    display, icc = _normalised(image, icc)
    display.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    thumbnail = _thumbnail(display)
    return Rendered(
        display=_encode(display, icc),
        thumbnail=_encode(thumbnail, icc),
        width=display.width,
        height=display.height,
        blurhash=_blurhash(display),
    )


def _render_animation(image: Image.Image) -> Rendered:
    frames_in = image.n_frames
    width, height = image.size
    side = settings.MEDIA_DISPLAY_SIDE
    scale = min(1.0, side / max(width, height), math.sqrt(ANIMATION_DISPLAY_PIXELS / frames_in / (width * height)))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    # A GIF without a loop count plays once; WebP's 0 is forever.
    loop = image.info.get("loop", 1)
    icc = image.info.get("icc_profile")
    frames: list[Image.Image] = []
    durations: list[int] = []
    thumbnail = None
    for frame in ImageSequence.Iterator(image):
        rgba = frame.convert("RGBA")  # decodes the frame, composed over the ones before
        duration = int(frame.info.get("duration") or 0)
        durations.append(duration if duration >= SHORTEST_FRAME_MS else DEFAULT_FRAME_MS)
        upright = ImageOps.exif_transpose(rgba)
        if thumbnail is None:
            thumbnail = _thumbnail(upright)
        turned_target = target if upright.size == rgba.size else target[::-1]
        frames.append(upright.resize(turned_target, Image.Resampling.LANCZOS, reducing_gap=3.0))
    if _icc_colour_space(icc) != "RGB":
        icc = None
    first = frames[0]
    display = _encode(
        first,
        icc,
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=loop,
        background=(0, 0, 0, 0),
    )
    return Rendered(
        display=display,
        thumbnail=_encode(thumbnail, icc),
        width=first.width,
        height=first.height,
        blurhash=_blurhash(first),
    )


def render(data: bytes, source_format: str) -> Rendered:
    """The display file, thumbnail and blurhash of an image in `source_format`; any decoding error raises."""
    with decompression_bombs_refused(), Image.open(BytesIO(data), formats=[source_format]) as image:
        frames = getattr(image, "n_frames", 1)
        animated = source_format in ("GIF", "WEBP", "PNG") and getattr(image, "is_animated", False)
        check_limits(*image.size, frames if animated else 1)
        if animated and ENCODING.animation:
            return _render_animation(image)
        return _render_still(image)


# The upload's row and files ------------------------------------------------------------------


def delete_files(names) -> None:
    """Removes stored files, logging (not raising) a failure: a file left behind is only disk space."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete the media file %s", name)


def _fail(media: Media, reason: str) -> None:
    failed = Media.objects.filter(pk=media.pk, status=Media.Status.PROCESSING).update(
        status=Media.Status.FAILED, error=reason[:200], original_name=""
    )
    if failed:
        delete_files([media.original_name])


def process(media_id: int) -> None:
    """Makes the files of upload `media_id` and marks it ready (or failed, with the reason)."""
    media = Media.objects.filter(pk=media_id).first()
    if media is None or media.status != Media.Status.PROCESSING or not media.original_name:
        return
    try:
        with default_storage.open(media.original_name, "rb") as original:
            data = original.read()
    except FileNotFoundError:
        # Deleted meanwhile (the upload deleted, or a run that finished first removed it).
        _fail(media, "The uploaded file is gone.")
        return
    try:
        if media.kind == Media.Kind.IMAGE:
            files, fields = _image_files(data, media.source_format)
        else:
            files, fields = _recording_files(data)
    except Exception as exc:
        # Whatever the decoder says of a file the structural check let through, the upload fails
        # with it; a bug here looks the same to the uploader, so it is logged in full too.
        logger.warning("upload %s could not be decoded", media.pk, exc_info=True)
        noun = "image" if media.kind == Media.Kind.IMAGE else "recording"
        _fail(media, f"This {noun} could not be decoded ({type(exc).__name__}: {exc}).")
        return
    del data
    names = {
        variant: default_storage.save(storage_name(media.key, variant, extension), ContentFile(content))
        for variant, (content, extension) in files.items()
    }
    done = Media.objects.filter(pk=media.pk, status=Media.Status.PROCESSING).update(
        status=Media.Status.READY,
        error="",
        display_name=names["display"],
        thumbnail_name=names.get("thumbnail", ""),
        poster_name=names.get("poster", ""),
        size=len(files["display"][0]),
        original_name="",
        **fields,
    )
    if not done:
        # Deleted meanwhile, or another run finished first: remove what this one wrote, unless
        # the storage overwrote the winner's files under the same names.
        kept = (
            Media.objects.filter(pk=media.pk).values_list("display_name", "thumbnail_name", "poster_name").first() or ()
        )
        delete_files(name for name in names.values() if name not in kept)
        return
    delete_files([media.original_name])


def _image_files(data: bytes, source_format: str) -> tuple[dict, dict]:
    """The files of a photo ({variant: (bytes, extension)}) and the fields they set."""
    rendered = render(data, source_format)
    files = {"display": (rendered.display, ENCODING.extension), "thumbnail": (rendered.thumbnail, ENCODING.extension)}
    fields = {
        "display_type": ENCODING.content_type,
        "thumbnail_type": ENCODING.content_type,
        "width": rendered.width,
        "height": rendered.height,
        "blurhash": rendered.blurhash,
    }
    return files, fields


def _recording_files(data: bytes) -> tuple[dict, dict]:
    """The files of a voice message or video and the fields they set.

    Both: the display file is the upload remuxed (media.audiovisual.remux: the same packets, no
    metadata), with the duration the packets give. Voice: a waveform of WAVEFORM_BARS peaks, and no
    thumbnail (there is no picture: `thumbnail_url` is null). Video: the poster frame (the first that is
    not black from 1 s on) made into a `poster` (at most MEDIA_DISPLAY_SIDE, WebP), the thumbnail
    (its MEDIA_THUMBNAIL_SIDE square) and the blurhash, through the photos' encoder.
    """
    probed = audiovisual.probe(BytesIO(data))
    _, extension, content_type = probed.output
    remuxed = audiovisual.remux(data, probed)
    fields = {"display_type": content_type, "duration": probed.duration}
    files = {"display": (remuxed, extension)}
    if probed.kind == Media.Kind.AUDIO:
        fields["waveform"] = audiovisual.waveform(remuxed)
        return files, fields
    picture, _ = _normalised(audiovisual.poster(remuxed), None)
    full = picture.copy()
    full.thumbnail((settings.MEDIA_DISPLAY_SIDE, settings.MEDIA_DISPLAY_SIDE), Image.Resampling.LANCZOS)
    files["poster"] = (_encode(full, None), ENCODING.extension)
    files["thumbnail"] = (_encode(_thumbnail(picture), None), ENCODING.extension)
    fields.update(
        thumbnail_type=ENCODING.content_type,
        # As shown: a phone's portrait video is stored landscape with a display matrix turning it.
        width=picture.width,
        height=picture.height,
        blurhash=_blurhash(full),
    )
    return files, fields
