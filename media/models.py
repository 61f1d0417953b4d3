"""Uploaded photos, voice messages and videos: one row per upload, whatever it is attached to.

media sits above accounts and below microblog and chat (docs/architecture.md): it knows nothing
of posts or messages. What an upload belongs to is the pair (`attached_kind`, `attached_id`),
and who may see it is asked of the app that owns that kind (`media.access`, where microblog and
chat register their rule from `ready()`). An avatar is attached to its user (kind "avatar").

Files live in Django's default storage (the file system, or S3 through django-storages) under
random names: `display_name` and `thumbnail_name` once processed, `original_name` only until
then (never served). Nothing depends on the names being secret: every byte is served through
`media.views.serve` after the owner's check.
"""

import secrets

from django.conf import settings
from django.db import models


def random_key() -> str:
    return secrets.token_urlsafe(18)


class Media(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image"
        AUDIO = "audio"
        VIDEO = "video"

    class Status(models.TextChoices):
        # Stored and checked, waiting for a worker to make the display file and the thumbnail.
        PROCESSING = "processing"
        READY = "ready"
        # The worker could not decode what the check let through; `error` says why.
        FAILED = "failed"

    class AttachedKind(models.TextChoices):
        NONE = ""
        POST = "post"
        MESSAGE = "message"
        AVATAR = "avatar"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.IMAGE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSING)
    error = models.CharField(max_length=200, blank=True)
    # Random, unique, and part of every file name and ETag: a new upload never reuses a cached answer.
    key = models.CharField(max_length=32, unique=True, default=random_key)
    alt = models.TextField(blank=True)
    # The format the upload decoded as ("JPEG", "PNG", "WEBP", "GIF", "HEIF"; "MP4", "WEBM", "OGG").
    source_format = models.CharField(max_length=8, blank=True)
    width = models.PositiveIntegerField(null=True)
    height = models.PositiveIntegerField(null=True)
    # Seconds, for audio and video.
    duration = models.FloatField(null=True)
    blurhash = models.CharField(max_length=64, blank=True)
    # Bytes of the display file once processed (of the upload before).
    size = models.PositiveBigIntegerField(default=0)
    original_name = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    display_type = models.CharField(max_length=40, blank=True)
    thumbnail_name = models.CharField(max_length=200, blank=True)
    thumbnail_type = models.CharField(max_length=40, blank=True)
    # A video's poster frame, full size (at most MEDIA_DISPLAY_SIDE) as WebP: the thumbnail is its
    # square cut, the display file the video itself. Served as the variant "poster".
    poster_name = models.CharField(max_length=200, blank=True)
    # A voice message's loudness: media.audiovisual.WAVEFORM_BARS peaks, 0..1, for drawing it.
    waveform = models.JSONField(null=True, blank=True)

    attached_kind = models.CharField(max_length=7, choices=AttachedKind.choices, blank=True, default="")
    attached_id = models.BigIntegerField(null=True)
    # Order within the post or message (0 first).
    position = models.PositiveSmallIntegerField(default=0)
    attached_at = models.DateTimeField(null=True)
    # Set when what it belonged to went (a post deleted, a message recalled, an avatar replaced):
    # served to nobody from then on; `prune_media` removes the files after MEDIA_RETENTION.
    detached_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["attached_kind", "attached_id", "position"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def attached(self) -> bool:
        return bool(self.attached_kind)
