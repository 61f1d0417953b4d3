"""Ready uploads made directly, for the tests of serving them (tests/media/test_serving.py, the
security batteries): a WebP made with Pillow written to the default storage, the Media row as
processing leaves it, and attaching and detaching as media/attach.py does (the columns alone).

The upload path itself is tested through POST /api/media/ in tests/media/test_upload.py; here
the files must exist whatever that path does, so they are written here.
"""

import io
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from media.models import Media


def webp(side: int) -> bytes:
    """A WebP of random pixels: every call's bytes are different, so a file is recognised by them."""
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80)
    return out.getvalue()


def stored_photo(owner, *, attach_to=None, key: str | None = None, status: str = Media.Status.READY, **fields) -> Media:
    """A processed photo of `owner`'s, attached to `attach_to` ("post"/"message"/"avatar", id) if given."""
    media = Media(owner=owner, status=status, kind=Media.Kind.IMAGE, width=64, height=64, **fields)
    if key is not None:
        media.key = key
    display, thumbnail = webp(64), webp(16)
    folder = f"photos/{media.key[:2]}"
    media.display_name = default_storage.save(f"{folder}/{media.key}.webp", ContentFile(display))
    media.thumbnail_name = default_storage.save(f"{folder}/{media.key}.thumb.webp", ContentFile(thumbnail))
    media.display_type = fields.get("display_type", "image/webp")
    media.thumbnail_type = fields.get("thumbnail_type", "image/webp")
    media.size = len(display)
    if attach_to is not None:
        media.attached_kind, media.attached_id = attach_to
        media.attached_at = timezone.now()
    media.save()
    return media


def stored_bytes(media: Media, variant: str = "display") -> bytes:
    with default_storage.open(media.display_name if variant == "display" else media.thumbnail_name, "rb") as file:
        return file.read()


def detach(kind: str, item_id: int) -> None:
    """What goes with a deleted post or a recalled message: its photos are served to nobody."""
    Media.objects.filter(attached_kind=kind, attached_id=item_id, detached_at__isnull=True).update(
        detached_at=timezone.now()
    )


def url(media: Media, variant: str = "display") -> str:
    return f"/media/{media.key}/{variant}"
