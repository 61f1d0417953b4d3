"""Template tags for pages outside chat that show chat state (accounts may not import chat)."""

from django import template

from microblog.selectors import muted_by

from ..selectors import muted_conversations_for
from ..serializers import conversation_title
from ..services import MAX_BODY

register = template.Library()


@register.inclusion_tag("chat/_mutes.html", takes_context=True)
def mutes_section(context) -> dict:
    """What the signed-in user muted, chats and authors, each with an unmute button (for /settings/)."""
    user = context["user"]
    conversations = [
        (conversation, conversation_title(conversation, user)) for conversation in muted_conversations_for(user)
    ]
    return {
        "user": user,  # a direct chat's name shows the other member's @username
        "csrf_token": context.get("csrf_token"),
        "here": context["request"].path,
        "conversations": conversations,
        "authors": list(muted_by(user)),
    }


@register.simple_tag
def message_max_chars() -> int:
    """The longest message body in code points, for the composer's counter (the service's limit, not a copy)."""
    return MAX_BODY
