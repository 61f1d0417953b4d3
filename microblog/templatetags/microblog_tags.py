"""Template tags for the microblog: the unread-notification count in the navigation bar, and the
notification kinds the notifications page renders a <template> for."""

from django import template

from microblog.models import Notification
from microblog.selectors import notifications_unread

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> str:
    """The signed-in user's unread count, or "" (an empty badge hides itself)."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return ""
    count = notifications_unread(user)
    return str(count) if count else ""


@register.simple_tag
def notification_kinds() -> list[str]:
    """Every kind of notification: the page holds one <template> per kind for those arriving live."""
    return list(Notification.Kind.values)
