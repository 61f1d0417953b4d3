"""Avatars: where each person's is served, the generated default, and the hook that sets one.

An avatar is an upload (`media.Media`, attached to its user as kind "avatar"), and media sits
above accounts (docs/architecture.md): accounts names the model by string and never imports
media. Setting one is media's write (`media.attach.avatar_set`: the upload's checks, detaching
the one it replaces), which media registers here from its `ready()`, as microblog and chat
register their audiences with `media.access`; `accounts.services.profile_update` calls it.

`avatar_url(user)` is what every presentation of a person carries: the upload's thumbnail,
served to anyone (media.access), or else `/avatars/<username>.svg`, initials on a colour of the
palette picked by the username. Lists of people join the avatar (`select_related("avatar")`),
so the URL costs no query per person.
"""

import hashlib
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from html import escape

from django.core.exceptions import ImproperlyConfigured
from django.urls import get_script_prefix, reverse

# Background colours of the generated avatars. White initials on each have a contrast ratio of
# at least 4.5:1 (WCAG AA for text; tests/media/test_avatars.py computes it).
PALETTE = (
    "#B3261E",  # red
    "#C2185B",  # pink
    "#8E24AA",  # purple
    "#5E35B1",  # deep purple
    "#3949AB",  # indigo
    "#1565C0",  # blue
    "#00695C",  # teal
    "#2E7D32",  # green
    "#BF360C",  # deep orange
    "#6D4C41",  # brown
    "#455A64",  # blue grey
)

_setter: Callable | None = None


def register_setter(setter: Callable) -> None:
    """Media's `avatar_set(*, user, media_id)`, registered from `MediaConfig.ready`."""
    global _setter
    _setter = setter


def avatar_set(*, user, media_id: int | None) -> None:
    """Makes the upload `media_id` the user's avatar (None: back to the default); media's rules apply."""
    if _setter is None:
        raise ImproperlyConfigured("The media app sets avatars: add it to INSTALLED_APPS.")
    _setter(user=user, media_id=media_id)


def colour_for(username: str) -> str:
    """The username's colour: the same on every worker and after restarts (not Python's salted hash)."""
    digest = hashlib.sha256(username.lower().encode()).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def _first_visible(word: str) -> str:
    # A letter or a digit: not a mark, a format character (bidi controls, zero-width joiners) or punctuation.
    for char in word:
        if unicodedata.category(char)[0] in "LN":
            return char
    return ""


def initials(name: str) -> str:
    """Up to two: the first letters of the first and last words ("Ada Lovelace": "AL"; "李雷": "李");
    "" when the name has no letter or digit at all."""
    firsts = [char for char in (_first_visible(word) for word in name.split()) if char]
    if not firsts:
        return ""
    return (firsts[0] + (firsts[-1] if len(firsts) > 1 else "")).upper()


def default_avatar_svg(*, username: str, name: str) -> str:
    """The generated avatar: `name`'s initials (else the username's), escaped, in white on the username's colour."""
    text = escape(initials(name) or initials(username) or "?")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" '
        f'role="img" aria-label="{text}">'
        f'<rect width="96" height="96" fill="{colour_for(username)}"/>'
        '<text x="48" y="48" dy="0.35em" text-anchor="middle" fill="#FFFFFF" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="40" font-weight="600">'
        f"{text}</text></svg>"
    )


def avatar_url(user) -> str:
    """Where `user`'s avatar is served: their upload's thumbnail, or the generated default.

    The default's URL names a digest of the shown name: the answer is cached for a day, and a
    new display name (new initials) is then a new URL rather than a stale picture.
    """
    prefix = get_script_prefix()
    if user.avatar_id is not None:
        return _reversed(prefix, "media-file", ("key", user.avatar.key), ("variant", "thumbnail"))
    version = hashlib.sha256(user.shown_name.encode()).hexdigest()[:8]
    return _reversed(prefix, "default-avatar", ("username", user.username)) + f"?v={version}"


@lru_cache(maxsize=8192)
def _reversed(script_prefix: str, viewname: str, *kwargs: tuple[str, str]) -> str:
    """`reverse(viewname, kwargs=...)`, remembered: every message pushed and every person listed
    carries an avatar URL, and reversing one was a twelfth of a chat send's CPU on the embedded
    default. The script prefix is part of the key because reverse's answer starts with it."""
    return reverse(viewname, kwargs=dict(kwargs))
