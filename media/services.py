"""Writes of uploads: taking one in, its alt text, deleting it, and pruning what nobody kept.

Every rule of an upload is here, whichever surface calls (media.api today). Refusals are
ServiceErrors (config maps them): `MediaError` for the rules below, `media.inspect.MediaRefused`
for a file that is not an image Tandem takes, `NotFound` for an id that is not the caller's,
`RateLimited` past ACTION_LIMITS["media-upload"].

Attaching uploads to posts, messages and avatars is media.attach's.
"""

import logging
import unicodedata
from datetime import datetime

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import action_take
from common.errors import NotFound, ServiceError
from common.text import is_blank

from .inspect import inspect_image
from .models import Media, random_key
from .processing import delete_files, schedule, storage_name

logger = logging.getLogger(__name__)

# Rows pruned per transaction: a long backlog never holds the database for long.
PRUNE_BATCH = 500


class MediaError(ServiceError):
    """An upload request the rules refuse: MediaError(code, detail, status=400)."""


def _alt_clean(alt: str) -> str:
    """The alt text as stored (trimmed, NFC; invisible-only text is none), or a refusal past its length."""
    if not isinstance(alt, str):
        raise MediaError("invalid", "Alt text must be a string.")
    try:
        alt.encode("utf-8")
    except UnicodeEncodeError:
        raise MediaError("invalid_text", "Alt text must be valid Unicode.") from None
    alt = unicodedata.normalize("NFC", alt.strip())
    if is_blank(alt):
        return ""
    if len(alt) > settings.MEDIA_ALT_MAX_LENGTH:
        raise MediaError("alt_too_long", f"Alt text is limited to {settings.MEDIA_ALT_MAX_LENGTH} characters.")
    return alt


def _files_of(media: Media) -> list[str]:
    return [name for name in (media.original_name, media.display_name, media.thumbnail_name) if name]


def media_upload(*, owner, file, alt: str = "") -> Media:
    """Takes in an image upload of `owner`: checked, stored, and processed after commit.

    Refused, in this order: past MEDIA_IMAGE_MAX_BYTES (413 `too_large`); alt text past its length;
    past the upload rate (429); a file media.inspect does not take (400 with its reason). A refused
    upload stores nothing. The media answered is `processing` until its files are made (already
    `ready` when MEDIA_PROCESSING is "inline"), or `failed` with the decoder's reason.
    """
    if file.size > settings.MEDIA_IMAGE_MAX_BYTES:
        raise MediaError("too_large", f"Images are limited to {settings.MEDIA_IMAGE_MAX_BYTES:,} bytes.", status=413)
    alt = _alt_clean(alt)
    action_take(action="media-upload", user=owner)
    inspected = inspect_image(file)
    key = random_key()
    # Stored before the transaction: writing megabytes (to S3, say) must not hold the database.
    original_name = default_storage.save(storage_name(key, "original"), file)
    try:
        with transaction.atomic():
            media = Media.objects.create(
                owner=owner,
                kind=Media.Kind.IMAGE,
                status=Media.Status.PROCESSING,
                key=key,
                alt=alt,
                source_format=inspected.format,
                width=inspected.width,
                height=inspected.height,
                size=file.size,
                original_name=original_name,
            )
            # robust: a processing backend that is down (a Celery broker) leaves the upload
            # `processing` (pruned after MEDIA_UNATTACHED_TTL), not the request failed.
            transaction.on_commit(lambda: schedule(media.pk), robust=True)
    except BaseException:
        delete_files([original_name])
        raise
    # Inline processing ran at commit: answer what it made.
    media.refresh_from_db()
    return media


def _own(owner, media_id, *, lock: bool = False) -> Media:
    rows = Media.objects.filter(pk=media_id, owner=owner) if isinstance(media_id, int) else Media.objects.none()
    if lock:
        rows = rows.select_for_update()
    media = rows.first()
    if media is None:
        raise NotFound()
    return media


def media_get_own(*, owner, media_id: int) -> Media:
    """One of `owner`'s uploads, whatever it is attached to; NotFound for anyone else's or a missing one."""
    return _own(owner, media_id)


@transaction.atomic
def media_update_alt(*, owner, media_id: int, alt: str) -> Media:
    """Sets the alt text of one of `owner`'s uploads (attached or not: describing a photo is always welcome)."""
    alt = _alt_clean(alt)
    media = _own(owner, media_id, lock=True)
    if media.alt != alt:
        media.alt = alt
        media.save(update_fields=["alt"])
    return media


def media_delete(*, owner, media_id: int) -> None:
    """Deletes one of `owner`'s uploads and its files, only while it is attached to nothing (409 after).

    Once attached, it goes with what holds it (the post deleted, the message recalled, the avatar
    replaced) and `prune_media` removes it MEDIA_RETENTION later.
    """
    with transaction.atomic():
        media = _own(owner, media_id, lock=True)
        if media.attached_kind:
            raise MediaError(
                "attached",
                f"This upload belongs to a {media.attached_kind}: delete or change that instead.",
                status=409,
            )
        names = _files_of(media)
        media.delete()
        # A processing run still going finds the row gone and removes what it wrote itself.
        transaction.on_commit(lambda: delete_files(names))


def media_prune(*, now: datetime | None = None) -> dict:
    """Deletes uploads nobody attached within MEDIA_UNATTACHED_TTL (failed ones too) and those detached
    longer than MEDIA_RETENTION ago, rows and files. Returns the counts: unattached, detached, files."""
    now = now or timezone.now()
    counts = {"unattached": 0, "detached": 0, "files": 0}
    rules = {
        "unattached": Q(attached_kind="", created_at__lt=now - settings.MEDIA_UNATTACHED_TTL),
        "detached": Q(detached_at__lt=now - settings.MEDIA_RETENTION),
    }
    for label, rule in rules.items():
        while True:
            with transaction.atomic():
                # Locked: an upload cannot be attached between this read and the delete.
                batch = list(Media.objects.select_for_update().filter(rule).order_by("pk")[:PRUNE_BATCH])
                if not batch:
                    break
                names = [name for media in batch for name in _files_of(media)]
                Media.objects.filter(pk__in=[media.pk for media in batch]).delete()
                transaction.on_commit(lambda names=names: delete_files(names))
            counts[label] += len(batch)
            counts["files"] += len(names)
            if len(batch) < PRUNE_BATCH:
                break
    return counts
