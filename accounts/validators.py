"""The rules for the names people see, in one place.

The services call these (`user_register`, `profile_update`), so the API, the pages and
any other caller get the same answer: a ServiceError with the reason, 400. Serializers and
forms only parse. Lengths are counted in Unicode code points, as common.text says.
"""

from common.errors import ServiceError
from common.text import has_bidi_controls, is_blank

from .models import DISPLAY_NAME_MAX_LENGTH, User, name_key

DISPLAY_NAME_TOO_LONG = f"Use at most {DISPLAY_NAME_MAX_LENGTH} characters (counted in Unicode code points)."


class InvalidName(ServiceError):
    code = "invalid_display_name"
    detail = "That display name cannot be used."


def display_name_check(name: str, *, username: str, user_id: int | None = None) -> None:
    """Raises InvalidName unless `name` may be the display name of `username` (user `user_id`).

    Empty is fine: the username is shown instead. Refused: more than the limit; bidirectional
    controls (they reorder what follows, so "\\u202eecilA" shows as "Alice"); nothing visible
    (spaces, zero-width characters, a BOM, lone combining marks); and another person's display
    name or username, compared by `name_key` (NFKC, case-folded, format characters dropped).
    The user's own username is fine.
    """
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise InvalidName(detail=f"{DISPLAY_NAME_TOO_LONG} This one has {len(name)}.")
    if not name:
        return
    if has_bidi_controls(name):
        raise InvalidName(
            detail="A display name cannot contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, "
            "U+200E, U+200F, U+061C): they change the order in which the text around them is shown."
        )
    if is_blank(name):
        raise InvalidName(
            detail="A display name needs something visible: not only spaces, zero-width characters or combining marks."
        )
    key = name_key(name)
    if key == name_key(username):
        return
    others = User.objects.exclude(pk=user_id) if user_id is not None else User.objects.all()
    if others.filter(username__iexact=key).exists() or others.filter(display_name_key=key).exists():
        raise InvalidName(
            code="display_name_taken",
            detail="That is someone else's name (their display name or username, ignoring case and look-alike "
            "forms). Choose another.",
        )
