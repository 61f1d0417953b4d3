"""What every chat service checks first: its error, text fields, membership, a named person."""

from accounts.models import User
from accounts.selectors import user_by_username
from common.errors import NotFound, ServiceError
from common.text import is_blank

from ..models import Conversation
from ..selectors import conversation_for_member


class ChatError(ServiceError):
    """A chat request the user may fix: ChatError(code, detail, status=400)."""


def check_text(value, *, field: str, max_length: int, allow_empty: bool = False) -> str:
    """The text stripped; blank (whitespace, zero-width or bidi characters only) counts as empty."""
    if not isinstance(value, str):
        raise ChatError("invalid", f"{field} must be a string.")
    text = value.strip()
    if is_blank(text):
        if not allow_empty:
            raise ChatError("invalid", f"{field} may not be blank.")
        text = ""
    if len(text) > max_length:
        raise ChatError("too_long", f"{field} is limited to {max_length} characters.")
    return text


def check_member_conversation(*, user: User, conversation_id) -> Conversation:
    """The conversation if `user` is a member; NotFound alike when it is not theirs or does not exist."""
    conversation = conversation_for_member(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise NotFound()
    return conversation


def named_user(username) -> User | None:
    """The active user of that name; None for anything else (PostgreSQL refuses NUL in a query)."""
    if not isinstance(username, str) or "\x00" in username:
        return None
    return user_by_username(username)


def user_or_404(username) -> User:
    user = named_user(username)
    if user is None:
        raise NotFound()
    return user
