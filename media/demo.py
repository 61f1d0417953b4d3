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
