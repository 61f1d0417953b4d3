"""Demo photos for `seed_demo`, drawn with Pillow when it runs (no image files in the repository) and
uploaded through the same service as every upload, so they are checked, processed and served as
real ones are.

The pictures are gradients and shapes (a sky, a sun, hills, water), the same for the same seed, so
every fresh demo looks alike.
"""

import random
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageDraw

from .models import Media
from .processing import process
from .services import media_upload

SKIES = [
    ((255, 183, 94), (120, 72, 160)),  # golden hour
    ((142, 202, 230), (33, 158, 188)),  # midday
    ((40, 44, 92), (236, 112, 99)),  # dusk
    ((220, 230, 240), (150, 170, 190)),  # snow light
    ((23, 32, 42), (93, 109, 126)),  # rain at night
    ((255, 224, 178), (239, 108, 0)),  # bakery warm
]


def _gradient(size: tuple[int, int], top: tuple, bottom: tuple) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def scene(seed: int, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """A landscape: a sky gradient, a sun or a moon, two ranges of hills and lines of water."""
    rng = random.Random(seed)  # noqa: S311 (a plain PRNG on purpose: the same picture every time)
    width, height = size
    top, bottom = SKIES[seed % len(SKIES)]
    image = _gradient(size, top, bottom)
    draw = ImageDraw.Draw(image)
    radius = rng.randint(height // 12, height // 6)
    x, y = rng.randint(radius, width - radius), rng.randint(radius, height // 2)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 244, 214))
    for layer, shade in enumerate((0.55, 0.35)):
        base = int(height * (0.55 + 0.12 * layer))
        points = [(0, height)]
        for step in range(0, width + 1, width // 8):
            points.append((step, base - rng.randint(0, height // 5)))
        points.append((width, height))
        colour = tuple(int(channel * shade) for channel in bottom)
        draw.polygon(points, fill=colour)
    for line in range(6):
        level = int(height * 0.82) + line * height // 40
        draw.line((rng.randint(0, width // 3), level, rng.randint(width // 2, width), level), fill=top, width=3)
    return image


def portrait(seed: int, size: int = 512) -> Image.Image:
    """An avatar: a diagonal gradient behind a ring and a dot, in the seed's colours."""
    rng = random.Random(seed)  # noqa: S311 (as above)
    top, bottom = SKIES[seed % len(SKIES)]
    image = _gradient((size, size), top, bottom).rotate(45, expand=False, fillcolor=bottom)
    draw = ImageDraw.Draw(image)
    inset = rng.randint(size // 6, size // 4)
    draw.ellipse((inset, inset, size - inset, size - inset), outline=(255, 255, 255), width=size // 16)
    dot = size // 8
    draw.ellipse((size // 2 - dot, size // 2 - dot, size // 2 + dot, size // 2 + dot), fill=(255, 255, 255))
    return image


def jpeg(image: Image.Image, name: str) -> SimpleUploadedFile:
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def demo_upload(*, owner, image: Image.Image, alt: str = "") -> Media:
    """Uploads `image` as `owner`'s, processed at once whatever MEDIA_PROCESSING says (the demo must be
    ready when the command ends: it runs before any worker or thread pool would)."""
    with override_settings(MEDIA_PROCESSING="inline"):
        media = media_upload(owner=owner, file=jpeg(image, "demo.jpg"), alt=alt)
    media.refresh_from_db()
    if media.status == Media.Status.PROCESSING:  # scheduled for after a commit still to come
        process(media.pk)
        media.refresh_from_db()
    return media


# Voice and video, made with PyAV (FFmpeg's libraries, in its wheel) when the demo is seeded ----------

VOICE_RATE = 48_000  # Opus's own rate


def voice_clip(seconds: float = 4.0) -> bytes:
    """A voice message as a browser records one (Opus in WebM): a tone that rises and falls like a
    sentence, in three bursts with pauses between, so its waveform has words in it."""
    import math
    from array import array
    from fractions import Fraction

    import av

    buffer = BytesIO()
    with av.open(buffer, "w", format="webm") as output:
        stream = output.add_stream("libopus", rate=VOICE_RATE, layout="mono")
        frame_size = stream.codec_context.frame_size or 960
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=VOICE_RATE)
        total = int(seconds * VOICE_RATE)
        phase = 0.0
        for start in range(0, total, frame_size):
            count = min(frame_size, total - start)
            samples = array("f")
            for n in range(start, start + count):
                t = n / VOICE_RATE
                burst = (t * 3 / seconds) % 1  # three "words"
                loudness = math.sin(math.pi * min(burst / 0.8, 1)) ** 2 if burst < 0.8 else 0.0
                phase += 2 * math.pi * (180 + 60 * math.sin(2 * math.pi * t / seconds)) / VOICE_RATE
                samples.append(0.6 * loudness * math.sin(phase))
            frame = av.AudioFrame(format="flt", layout="mono", samples=count)
            frame.planes[0].update(samples.tobytes())
            frame.sample_rate = VOICE_RATE
            frame.pts = start
            frame.time_base = Fraction(1, VOICE_RATE)
            for resampled in resampler.resample(frame):
                output.mux(stream.encode(resampled))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def video_clip(seconds: float = 4.0, size: tuple[int, int] = (320, 180), fps: int = 15) -> bytes:
    """A short video every browser plays (H.264 in MP4): a sky gradient with a sun crossing it and
    colour bars along the bottom, a moving test pattern; the first frame is already light, so
    the poster (the first frame that is not black near 1 s) shows the scene."""
    from fractions import Fraction

    import av

    width, height = size
    background = scene(0, size)  # golden hour
    bars = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255)]
    buffer = BytesIO()
    with av.open(buffer, "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        frames = int(seconds * fps)
        for index in range(frames):
            picture = background.copy()
            draw = ImageDraw.Draw(picture)
            x = int((width + 60) * index / frames) - 30
            draw.ellipse((x - 24, height // 3 - 24, x + 24, height // 3 + 24), fill=(255, 236, 180))
            bar_width = width // len(bars)
            for number, colour in enumerate(bars):
                left = (number * bar_width + index * 4) % width
                draw.rectangle((left, height - 20, left + bar_width - 1, height), fill=colour)
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def demo_clip(*, owner, data: bytes, name: str, kind: str, alt: str = "") -> Media:
    """Uploads a generated voice message or video as `owner`'s, processed at once (as `demo_upload`)."""
    with override_settings(MEDIA_PROCESSING="inline"):
        file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        media = media_upload(owner=owner, file=file, alt=alt, kind=kind)
    media.refresh_from_db()
    if media.status == Media.Status.PROCESSING:
        process(media.pk)
        media.refresh_from_db()
    return media
