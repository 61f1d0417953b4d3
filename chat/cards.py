"""Cards of posts and articles shared into chats, made for each reader: a post (an article) keeps its
visibility in a chat.

Cards also stay live: when a post's counts change or it is deleted, microblog's `post_changed`
signal (after commit) reaches `shared_cards_push`, which sends the fresh card to the online
members of the conversations the post was shared into, each as they may see it.
"""

from collections.abc import Iterable

from django.db.models import IntegerField, Value

from accounts.models import User
from accounts.selectors import blocked_pairs_among
from accounts.serializers import user_summary
from articles.models import Article
from articles.selectors import articles_by_id
from media.serializers import MediaSerializer
from microblog.models import Post
from microblog.reads import reads_record
from microblog.selectors import posts_by_id, posts_with_media, visible_reply_counts
from realtime.presence import presence_of
from realtime.services import ephemeral_send

from .models import Membership
from .visibility import sees_message

CARD_UPDATED = "shared_post.updated"


def unavailable(post_id: int) -> dict:
    return {"id": post_id, "unavailable": True}


def post_cards(viewer, post_ids) -> dict[int, dict]:
    """{post_id: card} for the viewer, in two queries (the posts, their photos): the post's card, or
    "unavailable" when the viewer may not see it (visibility, blocks) or it was deleted."""
    ids = sorted({pid for pid in post_ids if pid is not None})
    visible = posts_by_id(viewer, ids) if ids else {}
    reads_record(viewer, visible.values())  # a card in a chat is a read (the post as its reader may see it)
    cards = {}
    for post_id in ids:
        post = visible.get(post_id)
        if post is None:
            cards[post_id] = unavailable(post_id)
            continue
        cards[post_id] = card_of(post, reply_count=post.visible_reply_count)
    return cards


def card_of(post, *, reply_count: int) -> dict:
    """The card of a post, for a reader who may see it (the caller checks). `reply_count` is that
    reader's own: the replies they may see, never the stored total (which counts hidden ones).

    `image` is the post's first photo (a repost's: the original's), which the card shows as a
    thumbnail, and `media_count` how many it has; the post comes with its media attached
    (microblog.selectors.posts_with_media).
    """
    photos = post.media_items or post.original_media_items
    if not hasattr(post, "card_image"):  # the same for every reader: made once per post
        post.card_image = MediaSerializer(photos[0]).data if photos else None
    return {
        "id": post.pk,
        "unavailable": False,
        "author": user_summary(post.author),
        "body": post.body,
        "image": post.card_image,
        "media_count": len(photos),
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": reply_count,
        "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
    }


def reader_cards(post_ids: Iterable[int], reader_ids: Iterable[int]) -> dict[tuple[int, int], dict]:
    """{(post id, reader id): card} for every pair: the card to a reader who may see the post, with
    the replies that reader may see, "unavailable" to the others. A few queries whatever the number
    of readers (users, visibility and counts in one UNION per 200 readers, the posts, their photos),
    where post_cards per reader would cost one each."""
    post_ids = sorted({pid for pid in post_ids if pid is not None})
    reader_ids = sorted(set(reader_ids))
    if not post_ids or not reader_ids:
        return {}
    counts = visible_reply_counts(list(User.objects.filter(pk__in=reader_ids)), post_ids)
    posts = Post.objects.select_related("author__avatar").in_bulk({post_id for post_id, _ in counts})
    posts_with_media(posts.values())
    return {
        (post_id, reader_id): card_of(posts[post_id], reply_count=counts[(post_id, reader_id)])
        if (post_id, reader_id) in counts and post_id in posts
        else unavailable(post_id)
        for post_id in post_ids
        for reader_id in reader_ids
    }


def shared_cards_push(post_ids: Iterable[int]) -> None:
    """Pushes each post's card as it is now to the online members of every conversation it was
    shared into: the card to those who may see the post, "unavailable" to the others (and to all
    once it is deleted), so counts and text never reach a member who may not see them.

    The frame is not stored (no seq): a reload or a REST read shows the same card. The cost is a
    few queries per change, whatever the number of readers: members, their users, visibility in
    one UNION per 200 readers, the posts; members who are offline cost only a cache read.
    """
    rows = Membership.objects.filter(
        conversation__messages__shared_post_id__in=list(post_ids), conversation__messages__recalled_at__isnull=True
    ).values_list(
        "conversation__messages__shared_post_id",
        "user_id",
        "visible_after_message_id",
        "conversation__messages__id",
        "conversation__messages__sender_id",
        "conversation__kind",
    )
    rows = list(rows)
    # Only members who see the message that shared it (chat.selectors.messages_seen_by): not
    # one who joined after it, nor one hidden from its sender by a block.
    hidden = blocked_pairs_among({row[1] for row in rows} | {row[4] for row in rows}) if rows else set()
    readers: dict[int, set[int]] = {}
    for post_id, user_id, view_after, message_id, sender_id, kind in rows:
        if sees_message(
            view_after=view_after,
            message_id=message_id,
            reader_id=user_id,
            sender_id=sender_id,
            group=kind == "group",
            hidden=hidden,
        ):
            readers.setdefault(post_id, set()).add(user_id)
    everyone = set().union(*readers.values())
    online = {uid for uid, state in presence_of(sorted(everyone)).items() if state["online"]}
    if not online:
        return
    cards = reader_cards(readers, online)
    for post_id, members in readers.items():
        present = members & online
        shown = {uid for uid in present if not cards[(post_id, uid)]["unavailable"]}
        # Readers who see the same card (the same reply count) share one send.
        by_card: dict[int, set[int]] = {}
        for uid in shown:
            by_card.setdefault(cards[(post_id, uid)]["reply_count"], set()).add(uid)
        for same in by_card.values():
            ephemeral_send(user_ids=same, frame={"type": CARD_UPDATED, "shared_post": cards[(post_id, min(same))]})
        if present - shown:
            ephemeral_send(user_ids=present - shown, frame={"type": CARD_UPDATED, "shared_post": unavailable(post_id)})


# Articles shared into chats: the same rule as posts, the article's own audience (articles.models),
# published ones only; anyone else gets the "unavailable" card.
VIEWERS_PER_QUERY = 200


def article_card_of(article: Article) -> dict:
    """The card of an article, for a reader who may read it (the caller checks): cover, title, first lines."""
    return {
        "id": article.pk,
        "unavailable": False,
        "author": user_summary(article.author),
        "title": article.title,
        "excerpt": article.excerpt,
        "cover": MediaSerializer(article.cover).data if article.cover_id is not None else None,
        "read_count": article.read_count,
        "url": f"/a/{article.pk}/",
    }


def article_cards(viewer, article_ids) -> dict[int, dict]:
    """{article id: card} for the viewer, in one query: the card, or "unavailable" when the viewer may
    not read it (visibility, blocks, a draft) or it was deleted."""
    ids = sorted({aid for aid in article_ids if aid is not None})
    readable = articles_by_id(viewer, ids) if ids else {}
    return {aid: article_card_of(readable[aid]) if aid in readable else unavailable(aid) for aid in ids}


def article_reader_cards(article_ids: Iterable[int], reader_ids: Iterable[int]) -> dict[tuple[int, int], dict]:
    """{(article id, reader id): card} for every pair: the card to a reader who may read the article,
    "unavailable" to the others. One query per VIEWERS_PER_QUERY readers (a UNION ALL of each reader's
    `visible_to`), plus the articles, whatever the number of readers."""
    article_ids = sorted({aid for aid in article_ids if aid is not None})
    reader_ids = sorted(set(reader_ids))
    if not article_ids or not reader_ids:
        return {}
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(reader_ids), VIEWERS_PER_QUERY):
        queries = [
            Article.objects.visible_to(User(pk=reader_id))
            .filter(pk__in=article_ids, status=Article.Status.PUBLISHED)
            .annotate(reader_id=Value(reader_id, output_field=IntegerField()))
            .values_list("pk", "reader_id")
            for reader_id in reader_ids[start : start + VIEWERS_PER_QUERY]
        ]
        pairs.update(queries[0].union(*queries[1:], all=True))
    articles = Article.objects.select_related("author__avatar", "cover").in_bulk({aid for aid, _ in pairs})
    made = {aid: article_card_of(article) for aid, article in articles.items()}
    return {
        (aid, rid): made[aid] if (aid, rid) in pairs and aid in made else unavailable(aid)
        for aid in article_ids
        for rid in reader_ids
    }
