"""Attaching uploads to what they belong to: a post's or a message's photos (or its video, or a
message's voice message: `_mix_refusal`), a user's avatar.

The services of microblog and chat call these inside their own transaction, after their own
checks and before they store the post or message: `media_claim` (or `media_claim_many` for a
batch of sends) locks the uploads and refuses any that may not be attached, and
`media_attach` marks them as the new row's once it has an id. A refusal raises (or, for a
batch, answers) a `MediaRefused`, so the caller's transaction stores nothing of it.

What may be attached: at most settings.MEDIA_PER_ITEM distinct uploads, each the sender's own,
not attached to anything yet (nor detached from something), and processed (`ready`). Someone
else's upload is refused with the same answer as one that does not exist: the answer tells
nobody what others have uploaded.

`media_detach` ends an attachment (a post deleted, a message recalled, an avatar replaced):
the files are served to nobody from then on, and `manage.py prune_media` removes them later.

An avatar is set here too (`avatar_set`), for accounts, which sits below media and reaches it
through the hook in `accounts.avatars` (registered in `MediaConfig.ready`).
"""

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import ServiceError

from .models import Media

# Ids are bigints: a larger number names nothing, and a database asked about it raises.
MAX_ID = 2**63 - 1

NOUNS = {
    Media.AttachedKind.POST: "post",
    Media.AttachedKind.MESSAGE: "message",
    Media.AttachedKind.AVATAR: "avatar",
}


class MediaRefused(ServiceError):
    """Uploads that cannot be attached: MediaRefused(code, detail), answered 400."""


def _not_found() -> MediaRefused:
    # Missing and someone else's alike.
    return MediaRefused("media_not_found", "A photo was not found: upload it again.")


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _checked_ids(ids, kind: str) -> list[int]:
    """The ids as given, or a refusal of the list itself: not a list, not ids, too many, repeated."""
    if not isinstance(ids, list | tuple) or not all(_is_id(value) for value in ids):
        raise MediaRefused("invalid", "media must be a list of upload ids.")
    most = 1 if kind == Media.AttachedKind.AVATAR else settings.MEDIA_PER_ITEM
    if len(ids) > most:
        noun = NOUNS.get(kind, "item")
        raise MediaRefused("too_many_media", f"A {noun} takes at most {most} photo{'s' if most > 1 else ''}.")
    if len(set(ids)) != len(ids):
        raise MediaRefused("invalid", "The same photo is named twice.")
    return list(ids)


def _refusal(item: Media | None, *, owner_id: int, kind: str, taken: set[int]) -> MediaRefused | None:
    if item is None or item.owner_id != owner_id:
        return _not_found()
    if item.attached_kind or item.detached_at is not None or item.pk in taken:
        return MediaRefused("media_in_use", "A photo is already attached to something else: upload it again.")
    if item.status == Media.Status.PROCESSING:
        return MediaRefused("media_not_ready", "A photo is still being processed: send it in a moment.")
    if item.status != Media.Status.READY:
        return MediaRefused("media_failed", "A photo could not be processed: upload another.")
    if kind == Media.AttachedKind.AVATAR and item.kind != Media.Kind.IMAGE:
        return MediaRefused("invalid", "An avatar must be an image.")
    return None


def _mix_refusal(items: list[Media], *, kind: str) -> MediaRefused | None:
    """What a post or message may carry together: photos (up to MEDIA_PER_ITEM), or one video alone
    (as Mastodon: a player beside photos makes a confusing grid), or, in a message only, one voice
    message alone (a recording is what the message says; posts are read, not listened to)."""
    kinds = [item.kind for item in items]
    if Media.Kind.AUDIO in kinds:
        if kind != Media.AttachedKind.MESSAGE:
            return MediaRefused("voice_not_allowed", "Voice messages can be sent in chats only.")
        if len(items) > 1:
            return MediaRefused("voice_alone", "A voice message is sent on its own, without photos or videos.")
    if Media.Kind.VIDEO in kinds and len(items) > 1:
        noun = NOUNS.get(kind, "item")
        return MediaRefused("video_alone", f"A {noun} takes one video, without photos or other videos.")
    return None


def media_claim_many(*, requests: Sequence[tuple[object, object]], kind: str) -> list[list[Media] | MediaRefused]:
    """For each (owner, ids) of `requests`: the uploads in the order named, or the refusal of them.

    Call it inside the transaction that stores what they are attached to: the rows stay locked
    (SELECT ... FOR UPDATE, in id order) until it commits, so two sends racing for one upload
    cannot both have it. One query for the whole batch; an upload named by two requests goes to
    the first, and the second is refused.
    """
    answers: list[list[Media] | MediaRefused] = []
    wanted: list[tuple[int, list[int]]] = []
    for owner, ids in requests:
        try:
            checked = _checked_ids(ids, kind)
        except MediaRefused as refusal:
            answers.append(refusal)
            wanted.append((0, []))
            continue
        answers.append([])
        wanted.append((owner.pk, checked))
    every_id = sorted({media_id for _, ids in wanted for media_id in ids})
    if not every_id:
        return answers
    found = {item.pk: item for item in Media.objects.select_for_update().filter(pk__in=every_id).order_by("pk")}
    taken: set[int] = set()
    for index, (owner_id, ids) in enumerate(wanted):
        if isinstance(answers[index], MediaRefused) or not ids:
            continue
        items = [found.get(media_id) for media_id in ids]
        refusals = [_refusal(item, owner_id=owner_id, kind=kind, taken=taken) for item in items]
        refusal = next((r for r in refusals if r is not None), None) or _mix_refusal(items, kind=kind)
        if refusal is not None:
            answers[index] = refusal
            continue
        taken.update(ids)
        answers[index] = items
    return answers


def media_claim(*, owner, ids, kind: str) -> list[Media]:
    """The uploads `ids` of `owner`, locked for attaching to a `kind`, in the order named; MediaRefused otherwise.

    Inside the caller's transaction (see `media_claim_many`); nothing is written yet.
    """
    [answer] = media_claim_many(requests=[(owner, ids)], kind=kind)
    if isinstance(answer, MediaRefused):
        raise answer
    return answer


def media_attach_many(targets: Iterable[tuple[list[Media], int]], *, kind: str) -> None:
    """Attaches each list of claimed uploads to its target id (a post's, a message's), in order: one UPDATE."""
    now = timezone.now()
    changed = []
    for items, target_id in targets:
        for position, item in enumerate(items):
            item.attached_kind = kind
            item.attached_id = target_id
            item.position = position
            item.attached_at = now
            changed.append(item)
    if changed:
        Media.objects.bulk_update(changed, ["attached_kind", "attached_id", "position", "attached_at"])


def media_attach(items: list[Media], *, kind: str, target_id: int) -> None:
    """Attaches claimed uploads (`media_claim`) to the post, message or user `target_id`, in their order."""
    media_attach_many([(items, target_id)], kind=kind)


def media_detach(*, kind: str, ids: Iterable[int]) -> int:
    """Ends the attachments of the uploads of the `kind` rows `ids` (posts, messages, users):
    served to nobody from now on; their files go at the next `prune_media` past MEDIA_RETENTION."""
    ids = [target_id for target_id in ids if target_id is not None]
    if not ids:
        return 0
    return Media.objects.filter(attached_kind=kind, attached_id__in=ids, detached_at__isnull=True).update(
        detached_at=timezone.now()
    )


@transaction.atomic
def avatar_set(*, user, media_id: int | None) -> None:
    """Makes the upload `media_id` (the user's own, unattached, ready, an image) `user`'s avatar,
    or removes the avatar (None). The avatar it replaces is detached; the same one again changes nothing."""
    kind = Media.AttachedKind.AVATAR
    if media_id is not None and media_id == user.avatar_id:
        return
    new = media_claim(owner=user, ids=[media_id], kind=kind)[0] if media_id is not None else None
    media_detach(kind=kind, ids=[user.pk])
    if new is not None:
        media_attach([new], kind=kind, target_id=user.pk)
    user.avatar = new
    user.save(update_fields=["avatar"])
