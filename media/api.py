"""REST endpoints for uploads: POST /api/media/ (multipart), and GET, PATCH (alt), DELETE of one's own.

Views parse, call one service, and present; refusals are ServiceErrors mapped in config.exceptions.
Another person's upload answers exactly as a missing one: 404.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.schema import CONFLICT_RESPONSE, RATE_LIMITED_RESPONSE

from . import services
from .serializers import MediaSerializer

TOO_LARGE_RESPONSE = OpenApiResponse(
    description="The file is past its kind's size limit (`code` too_large: images 20 MB, voice 2 MB, "
    "video 100 MB), or the whole request body is past "
    "the limit of the upload path (a plain-text answer, before the body is read)."
)
REFUSED_RESPONSE = OpenApiResponse(
    description="Not a photo, voice message or video Tandem takes: `code` says why (not_an_image, "
    "empty, truncated, corrupt, polyglot, too_many_pixels, too_many_frames, unsupported_codec, too_long, not_audio, "
    "not_video, alt_too_long), `detail` says it for people; or a field error."
)


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JPEG, PNG, WebP, GIF (animated too) or HEIC/HEIF image; a voice message (Opus in WebM or "
        "Ogg, AAC in MP4/M4A; at most 60 s); or a video (MP4 with H.264 and AAC, WebM with VP8, VP9 or AV1 and "
        "Opus or Vorbis; at most 180 s). What it is, is read from its bytes: its name and Content-Type are ignored."
    )
    kind = serializers.ChoiceField(
        choices=["image", "audio", "video"],
        required=False,
        default=None,
        help_text="What the sender means to send (a voice recorder says audio): a file that is something else "
        "is refused (not_audio, not_video, not_an_image). Without it, the kind is the file's.",
    )
    alt = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,  # the service trims, the same for every caller
        max_length=settings.MEDIA_ALT_MAX_LENGTH,
        help_text="A description for people who cannot see the image.",
    )


class MediaAltSerializer(serializers.Serializer):
    alt = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=settings.MEDIA_ALT_MAX_LENGTH
    )


class MediaUploadView(APIView):
    # Only this view takes multipart bodies (the API's default parsers do not; config/settings/base.py).
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": MediaUploadSerializer},
        responses={
            201: MediaSerializer,
            400: REFUSED_RESPONSE,
            413: TOO_LARGE_RESPONSE,
            429: RATE_LIMITED_RESPONSE,
        },
        description="Uploads an image. It answers `processing` until the display file and the thumbnail are "
        "made (GET it again for `ready`, or `failed`). Attach it to a post, a message or the avatar within "
        "a day, or it is deleted.",
    )
    def post(self, request):
        serializer = MediaUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        media = services.media_upload(owner=request.user, **serializer.validated_data)
        return Response(MediaSerializer(media).data, status=status.HTTP_201_CREATED)


class MediaDetailView(APIView):
    @extend_schema(responses=MediaSerializer)
    def get(self, request, pk: int):
        return Response(MediaSerializer(services.media_get_own(owner=request.user, media_id=pk)).data)

    @extend_schema(request=MediaAltSerializer, responses=MediaSerializer)
    def patch(self, request, pk: int):
        serializer = MediaAltSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "alt" in serializer.validated_data:
            media = services.media_update_alt(owner=request.user, media_id=pk, alt=serializer.validated_data["alt"])
        else:
            media = services.media_get_own(owner=request.user, media_id=pk)
        return Response(MediaSerializer(media).data)

    @extend_schema(
        request=None,
        responses={204: None, 409: CONFLICT_RESPONSE},
        description="Deletes an upload attached to nothing, with its files (409 `attached` once it belongs "
        "to a post, a message or the avatar).",
    )
    def delete(self, request, pk: int):
        services.media_delete(owner=request.user, media_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
