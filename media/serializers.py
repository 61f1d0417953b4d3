"""The media object of the API (docs/openapi.yaml), the same inside posts and messages."""

from django.urls import reverse
from rest_framework import serializers

from .models import Media


def file_url(media: Media, variant: str) -> str:
    """Where `variant` ("display", "thumbnail", a video's "poster") of `media` is served, after the check."""
    return reverse("media-file", kwargs={"key": media.key, "variant": variant})


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The display file; null until `status` is ready.")
    thumbnail_url = serializers.SerializerMethodField(
        help_text="A square thumbnail (a video's: of its poster frame); null until ready, and for voice messages."
    )
    poster_url = serializers.SerializerMethodField(
        help_text="A video's poster frame, full size (WebP): for the player's `poster`; null for anything else."
    )
    waveform = serializers.JSONField(
        read_only=True,
        help_text="A voice message's loudness: 48 peaks from 0 to 1, start to end; null for anything else.",
    )

    class Meta:
        model = Media
        fields = (
            "id",
            "kind",
            "status",
            "url",
            "thumbnail_url",
            "poster_url",
            "width",
            "height",
            "duration",
            "alt",
            "blurhash",
            "size",
            "waveform",
        )
        read_only_fields = tuple(f for f in fields if f != "alt")

    def get_url(self, media: Media) -> str | None:
        return file_url(media, "display") if media.status == Media.Status.READY else None

    def get_thumbnail_url(self, media: Media) -> str | None:
        return file_url(media, "thumbnail") if media.status == Media.Status.READY and media.thumbnail_name else None

    def get_poster_url(self, media: Media) -> str | None:
        return file_url(media, "poster") if media.status == Media.Status.READY and media.poster_name else None
