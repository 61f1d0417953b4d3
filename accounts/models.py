"""People and the relationship graph that chat and microblog both read: users, contacts, blocks."""

import unicodedata

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

USERNAME_PATTERN = r"^[A-Za-z0-9_]{3,30}$"
username_validator = RegexValidator(
    USERNAME_PATTERN,
    "Use 3 to 30 characters: ASCII letters, digits or underscores.",
    code="invalid_username",
)


DISPLAY_NAME_MAX_LENGTH = 50  # code points


def name_key(name: str) -> str:
    """How a name compares with other names: NFKC, case-folded, without format characters.

    So "ＡＬＩＣＥ", "alice" and "Ali\u200bce" are one name; format characters (zero-width
    spaces and joiners, bidi controls) change nothing anyone sees.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return unicodedata.normalize("NFKC", text.casefold())


class Verification(models.TextChoices):
    """The badge tiers; each label is what a screen reader says for the badge."""

    NONE = "none", "Not verified"
    IDENTITY = "identity", "Verified identity"
    ORGANISATION = "organisation", "Verified organisation"
    INFLUENCER = "influencer", "Influencer"
    TOP_INFLUENCER = "top_influencer", "Top influencer"


GRANTED_TIERS = (Verification.IDENTITY, Verification.ORGANISATION)
EARNED_TIERS = (Verification.INFLUENCER, Verification.TOP_INFLUENCER)


class TandemUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Login ignores case, as the uniqueness rule does (ModelBackend looks users up here).
        return self.get(username__iexact=username)


class User(AbstractUser):
    class Kind(models.TextChoices):
        PERSON = "person"
        # A channel (WeChat's subscription account, chat.models.Channel): it has no password and never
        # signs in; its owner and editors act for it. Never a contact, a group member or a follower.
        CHANNEL = "channel"

    username = models.CharField(
        max_length=30,
        unique=True,
        validators=[username_validator],
        help_text="3–30 ASCII letters, digits or underscores; unique ignoring case.",
        error_messages={"unique": "That username is taken."},
    )
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX_LENGTH, blank=True)
    # name_key(display_name), kept by save(): "is this name someone else's?" is one indexed lookup.
    display_name_key = models.CharField(max_length=1000, blank=True, editable=False, db_index=True)
    bio = models.CharField(max_length=280, blank=True)
    feed_uses_chats = models.BooleanField(
        "Use my chats to rank my feed",
        default=True,
        help_text="People you chat with rank higher in your home feed, marked “you chat with”.",
    )
    # An upload of the user's own, attached to them (media.attach.avatar_set). Named by string:
    # accounts sits below media and never imports it. None: a generated default (accounts.avatars).
    avatar = models.ForeignKey("media.Media", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The V badge beside the name. identity and organisation are granted by an admin on request
    # (VerificationRequest); influencer and top_influencer are earned, recomputed daily from reach
    # (microblog.reach_tiers), and never replace a granted badge.
    verification = models.CharField(max_length=16, choices=Verification.choices, default=Verification.NONE)
    kind = models.CharField(max_length=7, choices=Kind.choices, default=Kind.PERSON)

    objects = TandemUserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique")]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        self.display_name_key = name_key(self.display_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "display_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "display_name_key"}
        super().save(*args, **kwargs)

    @property
    def is_channel(self) -> bool:
        return self.kind == self.Kind.CHANNEL

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

    @property
    def verification_summary(self) -> dict | None:
        """What user summaries carry: null, or the tier and its accessible label."""
        if self.verification == Verification.NONE:
            return None
        return {"tier": self.verification, "label": Verification(self.verification).label}


class VerificationRequest(models.Model):
    """A person's request for a granted badge (identity or organisation), decided by an admin."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REFUSED = "refused"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verification_requests")
    tier = models.CharField(
        max_length=16, choices=[(tier.value, tier.label) for tier in GRANTED_TIERS], default=Verification.IDENTITY
    )
    real_name = models.CharField(max_length=100)
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # One open request per person: asking again waits for the answer.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="accounts_one_pending_verification"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="accounts_verification_queue")]

    def __str__(self) -> str:
        return f"{self.user} asks for {self.tier}"


class ContactRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"

    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One open request per direction; a declined one may be asked again.
            models.UniqueConstraint(
                fields=["from_user", "to_user"],
                condition=Q(status="pending"),
                name="accounts_one_pending_request_per_pair",
            ),
            models.CheckConstraint(condition=~Q(from_user=models.F("to_user")), name="accounts_request_not_self"),
        ]
        indexes = [models.Index(fields=["to_user", "status"])]


class Contact(models.Model):
    """One row per direction, so "my contacts" is a single indexed lookup."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "contact"], name="accounts_contact_unique")]


class Block(models.Model):
    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_unique")]
