"""Cards of posts shared into chats, made for each reader: a post keeps its visibility in a chat.

Cards also stay live: when a post's counts change or it is deleted, microblog's `post_changed`
signal (after commit) reaches `shared_cards_push`, which sends the fresh card to the online
members of the conversations the post was shared into, each as they may see it.
"""

from collections.abc import Iterable

from accounts.models import User
from microblog.models import Post
from microblog.selectors import posts_by_id, visible_pairs
from realtime.services import ephemeral_send

from .models import Membership
from .presence import presence_of

CARD_UPDATED = "shared_post.updated"


def unavailable(post_id: int) -> dict:
    return {"id": post_id, "unavailable": True}


def post_cards(viewer, post_ids) -> dict[int, dict]:
    """{post_id: card} for the viewer, in one query: the post's card, or "unavailable" when the
    viewer may not see it (visibility, blocks) or it was deleted."""
    ids = sorted({pid for pid in post_ids if pid is not None})
    visible = posts_by_id(viewer, ids) if ids else {}
    cards = {}
    for post_id in ids:
        post = visible.get(post_id)
        if post is None:
            cards[post_id] = unavailable(post_id)
            continue
        cards[post_id] = card_of(post)
    return cards


def card_of(post) -> dict:
    """The card of a post, for a reader who may see it (the caller checks)."""
    return {
        "id": post.pk,
        "unavailable": False,
        "author": {"username": post.author.username, "display_name": post.author.display_name},
        "body": post.body,
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": post.reply_count,
        "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
    }


def shared_cards_push(post_ids: Iterable[int]) -> None:
    """Pushes each post's card as it is now to the online members of every conversation it was
    shared into: the card to those who may see the post, "unavailable" to the others (and to all
    once it is deleted), so counts and text never reach a member who may not see them.

    The frame is not stored (no seq): a reload or a REST read shows the same card. The cost is a
    few queries per change, whatever the number of readers: members, their users, visibility in
    one UNION per 200 readers, the posts; members who are offline cost only a cache read.
    """
    rows = (
        Membership.objects.filter(
            conversation__messages__shared_post_id__in=list(post_ids), conversation__messages__recalled_at__isnull=True
        )
        .values_list("conversation__messages__shared_post_id", "user_id")
        .distinct()
    )
    readers: dict[int, set[int]] = {}
    for post_id, user_id in rows:
        readers.setdefault(post_id, set()).add(user_id)
    everyone = set().union(*readers.values())
    online = {uid for uid, state in presence_of(sorted(everyone)).items() if state["online"]}
    if not online:
        return
    allowed = visible_pairs(list(User.objects.filter(pk__in=online)), readers)
    posts = Post.objects.select_related("author").in_bulk({post_id for post_id, _ in allowed})
    for post_id, members in readers.items():
        present = members & online
        shown = {uid for uid in present if (post_id, uid) in allowed and post_id in posts}
        if shown:
            ephemeral_send(user_ids=shown, frame={"type": CARD_UPDATED, "shared_post": card_of(posts[post_id])})
        if present - shown:
            ephemeral_send(user_ids=present - shown, frame={"type": CARD_UPDATED, "shared_post": unavailable(post_id)})
