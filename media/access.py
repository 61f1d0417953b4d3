"""Who may fetch an upload's bytes: the rule of whatever it is attached to, asked of the app that owns it.

media knows nothing of posts or messages (it sits below microblog and chat). Each app that
attaches media registers, from its `ready()`, an `Audience` for its kind: which of some ids a
viewer may see now, and which of them anyone may see (for public caching). The serving view
(`media.views`) and the serializers ask here and nowhere else.

- unattached: its uploader only;
- detached (the post deleted, the message recalled, the avatar replaced): nobody;
- an avatar: anyone (kind "avatar", registered below);
- a post's: whoever may see the post (microblog registers `Post.objects.visible_to`);
- a message's: the members who see the message (chat registers `chat.visibility`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import Media


@dataclass(frozen=True)
class Audience:
    # (viewer or None, ids) -> the ids the viewer may see now.
    visible: Callable[[object, list[int]], set[int]]
    # ids -> the ids anyone may see (their files may be cached publicly).
    public: Callable[[list[int]], set[int]]


_audiences: dict[str, Audience] = {}


def register(kind: str, audience: Audience) -> None:
    _audiences[kind] = audience


def _viewer_id(viewer) -> int | None:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return viewer.pk


def visible_media(viewer, media: Iterable[Media]) -> set[int]:
    """The pks of `media` that `viewer` (a user, anonymous or None) may fetch now, a query per kind."""
    viewer_id = _viewer_id(viewer)
    allowed: set[int] = set()
    by_kind: dict[str, list[Media]] = {}
    for item in media:
        if item.detached_at is not None:
            continue
        if not item.attached_kind:
            if viewer_id is not None and item.owner_id == viewer_id:
                allowed.add(item.pk)
            continue
        by_kind.setdefault(item.attached_kind, []).append(item)
    for kind, items in by_kind.items():
        audience = _audiences.get(kind)
        if audience is None:
            continue
        seen = audience.visible(viewer if viewer_id is not None else None, sorted({i.attached_id for i in items}))
        allowed.update(item.pk for item in items if item.attached_id in seen)
    return allowed


def may_see(viewer, media: Media) -> bool:
    return media.pk in visible_media(viewer, [media])


def is_public(media: Media) -> bool:
    """Anyone may fetch it (so a shared cache may keep it): an avatar, a public post's photo."""
    if media.detached_at is not None or not media.attached_kind:
        return False
    audience = _audiences.get(media.attached_kind)
    return audience is not None and media.attached_id in audience.public([media.attached_id])


def _everyone(ids: list[int]) -> set[int]:
    return set(ids)


register("avatar", Audience(visible=lambda viewer, ids: set(ids), public=_everyone))
