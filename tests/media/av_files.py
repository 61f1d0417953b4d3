"""Voice clips and videos made now with PyAV, for the tests of taking them in (no binary files committed).

- `make_audio(container, codec, seconds)`: a tone (440 Hz, louder in its second half, so a waveform
  has a shape), e.g. ("webm", "libopus"), ("ogg", "libopus"), ("ipod", "aac") for an M4A, ("mp3", "libmp3lame").
- `make_video(container, codec, seconds, audio_codec=, size=, metadata=)`: frames black for the
  first 0.5 s, then a coloured picture, so the poster (the first frame that is not black near 1 s)
  can be told from the start; ("mp4", "libx264", audio_codec="aac"), ("webm", "libvpx-vp9"),
  ("mp4", "mpeg4") and ("mp4", "libx265") for codecs browsers cannot play.

Everything is tiny (64 x 48, 8 fps, 16 kHz mono audio), so each file is made in milliseconds.
"""

import math
import os
import struct
import tempfile
from array import array
from fractions import Fraction
from io import BytesIO

import av

POSTER_COLOUR = (200, 40, 40)
MARK_COLOUR = (40, 40, 200)
TONE_HZ = 440


def turned_upright(mp4: bytes) -> bytes:
    """The MP4 with its (first) video track's display matrix saying "turn 90 degrees clockwise to
    show": what a phone held upright writes over the landscape frames its sensor records."""
    data = bytearray(mp4)
    at = data.find(b"tkhd")
    version = data[at + 4]
    # After version+flags: times and track id (20 bytes, 32 in version 1), 8 reserved, layer,
    # alternate group, volume, 2 reserved; then the 3 x 3 matrix of 32-bit numbers.
    matrix_at = at + 4 + 4 + (32 if version == 1 else 20) + 8 + 8
    data[matrix_at : matrix_at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    return bytes(data)


def _tone_frames(stream, seconds: float):
    """Frames of a 440 Hz tone, quiet (0.2) for the first half and loud (0.8) for the second."""
    rate = stream.codec_context.sample_rate
    frame_size = stream.codec_context.frame_size or 1024
    total = int(seconds * rate)
    layout = stream.codec_context.layout.name
    sample_format = stream.codec_context.format.name
    # A whole number of periods fits in a second: one second of samples is cut into every frame.
    quiet = array("f", [0.2 * math.sin(2 * math.pi * TONE_HZ * n / rate) for n in range(rate)])
    loud = array("f", [4 * value for value in quiet])
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    produced = 0
    while produced < total:
        count = min(frame_size, total - produced)
        table = quiet if produced < total // 2 else loud
        start = produced % rate
        samples = (table[start:] + table)[:count] if start + count > rate else table[start : start + count]
        frame = av.AudioFrame(format="flt", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = rate
        frame.pts = produced
        frame.time_base = Fraction(1, rate)
        produced += count
        yield from resampler.resample(frame)


def _add_audio(output, codec: str):
    rate = 22050 if codec == "libmp3lame" else 16000
    stream = output.add_stream(codec, rate=rate, layout="mono")
    return stream


def make_audio(container: str = "webm", codec: str = "libopus", seconds: float = 2.0, metadata=None) -> bytes:
    """An audio-only file: a tone of `seconds` in `codec` inside `container` (an FFmpeg muxer name)."""
    buffer = BytesIO()
    with av.open(buffer, "w", format=container) as output:
        output.metadata.update(metadata or {})
        stream = _add_audio(output, codec)
        for frame in _tone_frames(stream, seconds):
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def make_video(
    container: str = "mp4",
    codec: str = "libx264",
    seconds: float = 2.0,
    *,
    audio_codec: str | None = None,
    size: tuple[int, int] = (64, 48),
    fps: int = 8,
    metadata: dict | None = None,
    pixel_format: str = "yuv420p",
    index_first: bool = False,
    marked: bool = False,
) -> bytes:
    """A video of `seconds`: black for its first half second, then POSTER_COLOUR; with a tone if `audio_codec`.

    `marked`: the picture's top-left quarter is MARK_COLOUR (the rest POSTER_COLOUR), to tell which way up it shows.
    `index_first`: an MP4 with its index ("moov") before the data, as phones and web encoders write them
    (written to a file: FFmpeg moves the index in a second pass)."""
    how = {
        "container": container,
        "codec": codec,
        "seconds": seconds,
        "audio_codec": audio_codec,
        "size": size,
        "fps": fps,
        "metadata": metadata,
        "pixel_format": pixel_format,
        "marked": marked,
    }
    if index_first:
        with tempfile.NamedTemporaryFile(suffix=".mp4") as written:
            _write_video(written.name, index_first=True, **how)
            return written.read()
    buffer = BytesIO()
    _write_video(buffer, index_first=False, **how)
    return buffer.getvalue()


def _write_video(
    target, *, container, codec, seconds, audio_codec, size, fps, metadata, pixel_format, index_first, marked
):
    from PIL import Image

    options = {"movflags": "+faststart"} if index_first else {}
    with av.open(target, "w", format=container, options=options) as output:
        output.metadata.update(metadata or {})
        video = output.add_stream(codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = pixel_format
        audio = _add_audio(output, audio_codec) if audio_codec else None
        black = Image.new("RGB", size, (0, 0, 0))
        picture = Image.new("RGB", size, POSTER_COLOUR)
        if marked:
            picture.paste(MARK_COLOUR, (0, 0, size[0] // 2, size[1] // 2))
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(black if index < fps // 2 else picture)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if audio is not None:
            for frame in _tone_frames(audio, seconds):
                output.mux(audio.encode(frame))
            output.mux(audio.encode(None))


# Stored voice clips and videos, as processing leaves them (for the tests of serving them) ------


def stored_voice(owner, *, attach_to=None, key: str | None = None, padding: int = 0):
    """A ready voice clip of `owner`'s (an Opus WebM tone), attached to `attach_to` ("message", id) if given.

    `padding` random bytes are appended to the stored file, so range tests can span several of
    the view's 64 KiB blocks (the view serves bytes; it never parses what it sends).
    """
    data = make_audio("webm", "libopus", seconds=2.0) + os.urandom(padding)
    return _stored(owner, "audio", data, "audio/webm", "webm", attach_to=attach_to, key=key, duration=2.0)


def stored_video(owner, *, attach_to=None, key: str | None = None, padding: int = 0):
    """A ready H.264 MP4 of `owner`'s with its poster (thumbnail and full-size WebP), attached if `attach_to`."""
    data = make_video("mp4", "libx264", seconds=2.0, audio_codec="aac", index_first=True) + os.urandom(padding)
    return _stored(
        owner, "video", data, "video/mp4", "mp4", attach_to=attach_to, key=key, duration=2.0, width=64, height=48
    )


def _stored(owner, kind, data, content_type, extension, *, attach_to, key, **fields):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from media.models import Media
    from tests.media.files import webp

    media = Media(
        owner=owner, status=Media.Status.READY, kind=kind, size=len(data), display_type=content_type, **fields
    )
    if key is not None:
        media.key = key
    folder = f"{kind}/{media.key[:2]}"
    media.display_name = default_storage.save(f"{folder}/{media.key}.{extension}", ContentFile(data))
    if kind == "video":
        media.thumbnail_name = default_storage.save(f"{folder}/{media.key}.thumb.webp", ContentFile(webp(16)))
        media.poster_name = default_storage.save(f"{folder}/{media.key}.poster.webp", ContentFile(webp(64)))
        media.thumbnail_type = "image/webp"
    else:
        media.waveform = [0.5] * 48
    if attach_to is not None:
        media.attached_kind, media.attached_id = attach_to
        media.attached_at = timezone.now()
    media.save()
    return media


def stored_variant(media, variant: str = "display") -> bytes:
    """The bytes of one of a stored upload's files ("display", "thumbnail", "poster")."""
    from django.core.files.storage import default_storage

    name = {"display": media.display_name, "thumbnail": media.thumbnail_name, "poster": media.poster_name}[variant]
    with default_storage.open(name, "rb") as file:
        return file.read()
