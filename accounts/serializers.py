"""API shapes for accounts. Serializers validate and present; services write."""

from django.contrib.auth import password_validation
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.store_epoch import store_epoch

from .avatars import avatar_url
from .models import DISPLAY_NAME_MAX_LENGTH, User, Verification, username_validator
from .validators import DISPLAY_NAME_TOO_LONG

# Parsing only: what a display name may be is accounts.validators' rule, applied by the services.
DISPLAY_NAME_ERRORS = {"max_length": DISPLAY_NAME_TOO_LONG}


AVATAR_URL_HELP = "Their avatar's thumbnail, or a generated default (initials on a colour): never null."


def user_summary(user: User) -> dict:
    """`UserSummarySerializer`'s shape written by hand, for paths that skip DRF's fields for speed
    (chat's message frames, cards). The user's `avatar` should be joined (select_related)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "avatar_url": avatar_url(user),
        "verification": user.verification_summary,
    }


class VerificationSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=[tier for tier in Verification.values if tier != Verification.NONE])
    label = serializers.CharField(help_text='What the badge says to a screen reader ("Verified organisation").')


class UserSummarySerializer(serializers.ModelSerializer):
    """How a person appears inside other objects (a post's author, a message's sender).

    Lists of people join the avatar (`select_related("avatar")`), or `avatar_url` costs a query each.
    """

    avatar_url = serializers.SerializerMethodField(help_text=AVATAR_URL_HELP)
    verification = serializers.SerializerMethodField(help_text="Their V badge, or null.")

    class Meta:
        model = User
        fields = ("username", "display_name", "avatar_url", "verification")
        read_only_fields = fields

    def get_avatar_url(self, user: User) -> str:
        return avatar_url(user)

    @extend_schema_field(VerificationSerializer(allow_null=True))
    def get_verification(self, user: User) -> dict | None:
        return user.verification_summary


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's private view. Only display_name, bio, feed_uses_chats and avatar are writable."""

    # Before last_seq (fields are read in order): read across a change of epoch, a client resumes with
    # the old epoch and resyncs, never with a seq of the old life under the new epoch.
    epoch = serializers.SerializerMethodField(
        help_text="The store's epoch: send it with /ws/ resume, which answers resync when it changed."
    )
    last_seq = serializers.SerializerMethodField(help_text="The user's current event number (see /ws/ resume).")
    # Not an EmailField: the address is optional, and "" is no valid `format: email`.
    email = serializers.CharField(read_only=True)
    # Parsed as a plain id: whether it may be the avatar (the user's own upload, unattached, ready,
    # an image) is the service's rule, and someone else's must be refused as a missing one is.
    avatar = serializers.IntegerField(
        source="avatar_id",
        allow_null=True,
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="An image upload of yours (POST /api/media/) to show as your avatar; null for the default.",
    )
    avatar_url = serializers.SerializerMethodField(help_text=AVATAR_URL_HELP)

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "email",
            "display_name",
            "bio",
            "feed_uses_chats",
            "avatar",
            "avatar_url",
            "date_joined",
            "epoch",
            "last_seq",
        )
        read_only_fields = ("id", "username", "email", "date_joined", "epoch", "last_seq")
        extra_kwargs = {"display_name": {"error_messages": DISPLAY_NAME_ERRORS}}

    def get_avatar_url(self, user: User) -> str:
        return avatar_url(user)

    def get_epoch(self, user: User) -> str:
        return store_epoch()

    def get_last_seq(self, user: User) -> int:
        # `event_stream` is realtime's one-to-one row; accounts reads it without importing realtime.
        try:
            return user.event_stream.last_seq
        except ObjectDoesNotExist:
            return 0


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=30, validators=[username_validator])
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    # The column holds 254 characters; a longer address (valid up to 320) would fail as it is stored.
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=254)
    display_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        default="",
        error_messages=DISPLAY_NAME_ERRORS,
    )

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("That username is taken.")
        return value

    def validate(self, attrs):
        candidate = User(username=attrs["username"], email=attrs["email"], display_name=attrs["display_name"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class RegisteredSerializer(serializers.Serializer):
    user = MeSerializer()
    token = serializers.CharField()
