"""Processed uploads made directly, for the tests of attaching them (posts, messages, avatars).

What the upload path leaves once a photo is processed: a `ready` row and its files (a display
image and a thumbnail, WebP, drawn with Pillow here), written to the default storage. Tests
that make them point MEDIA_ROOT at a temporary directory first (`use_media_root`).
"""

import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from media.models import Media


def webp(width: int, height: int, colour=(200, 60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "WEBP")
    return out.getvalue()


def ready_media(owner, *, width: int = 64, height: int = 48, status: str = Media.Status.READY, alt: str = "") -> Media:
    """An upload of `owner`'s as processing leaves it (`status` "processing" or "failed": no files yet)."""
    media = Media(owner=owner, status=status, alt=alt, source_format="PNG")
    if status == Media.Status.READY:
        display = default_storage.save(f"tests/{media.key}-display.webp", ContentFile(webp(width, height)))
        side = min(width, height)
        thumbnail = default_storage.save(f"tests/{media.key}-thumbnail.webp", ContentFile(webp(side, side)))
        media.display_name, media.display_type = display, "image/webp"
        media.thumbnail_name, media.thumbnail_type = thumbnail, "image/webp"
        media.width, media.height = width, height
        media.size = default_storage.size(display)
    media.save()
    return media


def use_media_root(settings, tmp_path) -> None:
    """Files of this test go to a temporary directory (call it with pytest's `settings` and `tmp_path`)."""
    settings.MEDIA_ROOT = tmp_path / "media"


class default_avatar_of(str):  # noqa: N801  (used like a value: {"avatar_url": default_avatar_of("bob")})
    """Equals any URL of `username`'s generated avatar (`/avatars/<username>.svg?v=<version of the name>`)."""

    def __eq__(self, other) -> bool:
        return isinstance(other, str) and other.startswith(f"/avatars/{self}.svg?v=")

    __hash__ = str.__hash__
