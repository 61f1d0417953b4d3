"""Writes of uploads: taking one in, its alt text, deleting it, and pruning what nobody kept.

Every rule of an upload is here, whichever surface calls (media.api today). Refusals are
ServiceErrors (config maps them): `MediaError` for the rules below, `media.inspect.MediaRefused`
for a file that is not an image (media.inspect), voice message or video (media.audiovisual) Tandem
takes, `NotFound` for an id that is not the caller's,
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

from .audiovisual import probe
from .inspect import MediaRefused, inspect_image, looks_like_image
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
    names = (media.original_name, media.display_name, media.thumbnail_name, media.poster_name)
    return [name for name in names if name]


# What the size limit's refusal says, per kind.
NOUNS = {Media.Kind.IMAGE: "Images", Media.Kind.AUDIO: "Voice messages", Media.Kind.VIDEO: "Videos"}
# Enough of a file's start to tell an image from audio or video (a HEIF's "ftyp" box fits easily).
HEAD_BYTES = 4096


def size_limit(kind: str) -> int:
    """The most bytes an upload of `kind` ("image", "audio", "video") may have."""
    return {
        Media.Kind.IMAGE: settings.MEDIA_IMAGE_MAX_BYTES,
        Media.Kind.AUDIO: settings.MEDIA_AUDIO_MAX_BYTES,
        Media.Kind.VIDEO: settings.MEDIA_VIDEO_MAX_BYTES,
    }[kind]


def _too_large(kind: str) -> MediaError:
    return MediaError("too_large", f"{NOUNS[kind]} are limited to {size_limit(kind):,} bytes.", status=413)


def media_upload(*, owner, file, alt: str = "", kind: str | None = None) -> Media:
    """Takes in an upload of `owner` (a photo, a voice message, a video): checked, stored, and
    processed after commit.

    What it is comes from its bytes; `kind` ("image", "audio", "video"), when the sender says what
    it sends (a voice recorder says "audio"), refuses a file that is something else.
    Refused, in this order: an empty file (400 `empty`); past its kind's size limit (413 `too_large`:
    MEDIA_IMAGE_MAX_BYTES for what starts as an image, else MEDIA_VIDEO_MAX_BYTES, and
    MEDIA_AUDIO_MAX_BYTES once it is known to be audio); alt text past its length; past the upload
    rate (429); a file media.inspect or media.audiovisual does not take (400 with its reason). A
    refused upload stores nothing. The media answered is `processing` until its files are made
    (already `ready` when MEDIA_PROCESSING is "inline"), or `failed` with the decoder's reason.
    """
    if kind not in (None, *Media.Kind.values):
        raise MediaError("invalid", "kind must be image, audio or video.")
    if not file.size:
        raise MediaRefused("empty", "This file is empty.")
    file.seek(0)
    is_image = looks_like_image(file.read(HEAD_BYTES))
    file.seek(0)
    if file.size > size_limit(Media.Kind.IMAGE if is_image else Media.Kind.VIDEO):
        raise _too_large(Media.Kind.IMAGE if is_image else Media.Kind.VIDEO)
    alt = _alt_clean(alt)
    action_take(action="media-upload", user=owner)
    if is_image:
        if kind not in (None, Media.Kind.IMAGE):
            wanted = "a voice message" if kind == Media.Kind.AUDIO else "a video"
            raise MediaRefused(f"not_{kind}", f"This file is an image, not {wanted}.")
        inspected = inspect_image(file)
        fields = {
            "kind": Media.Kind.IMAGE,
            "source_format": inspected.format,
            "width": inspected.width,
            "height": inspected.height,
        }
    else:
        if kind == Media.Kind.IMAGE:
            inspect_image(file)  # raises its refusal: not an image
        probed = probe(file, wanted=kind)
        if file.size > size_limit(probed.kind):
            raise _too_large(probed.kind)
        fields = {
            "kind": probed.kind,
            "source_format": probed.source_format,
            "width": probed.width,
            "height": probed.height,
            "duration": probed.duration,
        }
        file.seek(0)
    key = random_key()
    # Stored before the transaction: writing megabytes (to S3, say) must not hold the database.
    original_name = default_storage.save(storage_name(key, "original"), file)
    try:
        with transaction.atomic():
            media = Media.objects.create(
                owner=owner,
                status=Media.Status.PROCESSING,
                key=key,
                alt=alt,
                size=file.size,
                **fields,
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
