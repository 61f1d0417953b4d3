"""Cards of posts shared into chats, made for each reader: a post keeps its visibility in a chat."""

from microblog.selectors import posts_by_id


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
        cards[post_id] = {
            "id": post.pk,
            "unavailable": False,
            "author": {"username": post.author.username, "display_name": post.author.display_name},
            "body": post.body,
            "like_count": post.like_count,
            "repost_count": post.repost_count,
            "reply_count": post.reply_count,
            "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
        }
    return cards
