"""What every signed-in page's one socket needs: the user's current seq and unread chat count."""

from realtime.selectors import last_seq

from .selectors import conversations_for


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    open_conversation = match.kwargs.get("conversation_id") if match else None
    # The conversation on screen is being read as the page opens, so it does not count.
    unread = conversations_for(user).exclude(pk=open_conversation).values_list("unread_count", flat=True)
    return {"last_seq": last_seq(user.pk), "chat_unread": sum(unread)}
