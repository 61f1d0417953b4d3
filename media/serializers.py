"""The media object of the API (docs/openapi.yaml), the same inside posts and messages."""

from django.urls import reverse
from rest_framework import serializers

from .models import Media


def file_url(media: Media, variant: str) -> str:
    """Where `variant` ("display" or "thumbnail") of `media` is served, after the check (media.views)."""
    return reverse("media-file", kwargs={"key": media.key, "variant": variant})


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The display file; null until `status` is ready.")
    thumbnail_url = serializers.SerializerMethodField(help_text="A square thumbnail; null until ready.")

    class Meta:
        model = Media
        fields = (
            "id",
            "kind",
            "status",
            "url",
            "thumbnail_url",
            "width",
            "height",
            "duration",
            "alt",
            "blurhash",
            "size",
        )
        read_only_fields = tuple(f for f in fields if f != "alt")

    def get_url(self, media: Media) -> str | None:
        return file_url(media, "display") if media.status == Media.Status.READY else None

    def get_thumbnail_url(self, media: Media) -> str | None:
        return file_url(media, "thumbnail") if media.status == Media.Status.READY else None
