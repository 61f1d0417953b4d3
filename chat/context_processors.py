"""What every signed-in page's one socket needs: the store's epoch and the user's current seq, unread
chat count, muted chats, and how many contact requests wait for them."""

from accounts.selectors import contact_requests_for
from common.store_epoch import store_epoch
from realtime.selectors import last_seq

from .models import Conversation
from .selectors import conversations_for


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    open_conversation = match.kwargs.get("conversation_id") if match else None
    rows = conversations_for(user).values_list("pk", "unread_count", "my_muted", "kind")
    muted = [pk for pk, _, is_muted, _ in rows if is_muted]
    # The conversation on screen is being read as the page opens, and a muted one raises no badge;
    # nor do channels' broadcasts (their count shows on the Subscriptions entry only, as in WeChat).
    unread = sum(
        count
        for pk, count, is_muted, kind in rows
        if not is_muted and pk != open_conversation and kind != Conversation.Kind.CHANNEL
    )
    return {
        # The epoch before the seq: read across a change of epoch, the page resumes with the old
        # one and resyncs, never with a seq of the old life under the new epoch.
        "store_epoch": store_epoch(),
        "last_seq": last_seq(user.pk),
        "chat_unread": unread,
        "muted_conversations": muted,
        # Requests waiting for an answer: a badge on Contacts (static/js/live.js keeps it live).
        "contact_requests": contact_requests_for(user, direction="incoming").count(),
    }
