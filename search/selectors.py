"""Search reads: posts, people, tags and the viewer's own chat messages.

Each starts from the index (search.backends), which answers "the newest CANDIDATES rows
matching", then passes those ids through the same rules as every other surface:
`posts_visible(viewer).not_muted_by(viewer)` for posts, people hidden by a block left out,
`messages_seen_by(viewer)` for messages (membership windows, blocks in groups), recalled never.

Bounded by design: a query reads at most CANDIDATES index entries whatever the corpus, so a
term in every post costs what a rare one does. Posts are ranked within those candidates by
relevance (BM25 of the candidate's text / ts_rank) times recency times engagement; older matches past the newest
CANDIDATES are not reached (chat search pages back by id without that bound: it is newest first).
"""

import base64
import binascii
import json
import math
import time
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from accounts.models import User
from articles.models import Article
from chat.models import Membership, Message
from chat.selectors import messages_with_media
from chat.visibility import messages_seen_by
from common.errors import ServiceError
from common.prepared import Prepared
from microblog.models import Hashtag, Post, PostTag
from microblog.presenting import presented_posts
from microblog.selectors import _hidden_from, posts_visible, posts_with_media, user_visible
from microblog.text import tag_name

from .backends import backend
from .backends.base import ARTICLES, MESSAGES, PEOPLE, POSTS
from .highlight import highlight
from .query import PUBLIC_TOKEN, Phrase, Query, author_token, conversation_token, parse, tag_token

CANDIDATES = 200
PAGE = 20
MAX_PAGE = 50
# Visibility is checked on the ranked candidates this many at a time, until a page is full.
CHECK_CHUNK = 60
# Recency: a post's score halves over about this many hours (as 1 / (1 + age / HALF_LIFE)).
RECENCY_HOURS = 48.0


class InvalidCursor(ServiceError):
    code = "invalid_cursor"
    detail = "Invalid cursor."


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, keys: dict[str, type]) -> dict:
    if not cursor:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(data, dict) or set(data) != set(keys):
        raise InvalidCursor()
    for key, kind in keys.items():
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidCursor()
        if isinstance(value, int) and not 0 <= value < 2**63:
            raise InvalidCursor()
        if isinstance(value, str) and len(value) > 200:
            raise InvalidCursor()
    return data


def _score(relevance: float, row: dict, now: float, has_text: bool) -> float:
    age_hours = max(0.0, now - row["created_at"].timestamp()) / 3600
    recency = 1.0 / (1.0 + age_hours / RECENCY_HOURS)
    engagement = 1.0 + 0.25 * math.log1p(row["like_count"] + 2 * row["repost_count"] + row["reply_count"])
    return (relevance if has_text else 1.0) * recency * engagement


def _visible_among(viewer_id: int, *ids: int):
    viewer = User(pk=viewer_id)
    return posts_visible(viewer).not_muted_by(viewer).filter(pk__in=ids).values_list("pk", flat=True)


def _public_among(*ids: int):
    return posts_visible(None).filter(pk__in=ids).values_list("pk", flat=True)


# The visibility of a chunk of candidates: the rule's query built once, run with each chunk's ids
# (padded to CHECK_CHUNK with 0, which names no post). Building it is most of its cost otherwise.
_visible_chunk = Prepared(_visible_among)
_public_chunk = Prepared(_public_among)


def _visible_ids(viewer, chunk: list[int]) -> set[int]:
    padded = [*chunk, *[0] * (CHECK_CHUNK - len(chunk))]
    if viewer is not None and viewer.is_authenticated:
        return set(_visible_chunk(viewer.pk, *padded))
    return set(_public_chunk(*padded))


def _author_meta(viewer, query: Query) -> tuple[str, ...] | None:
    """The `from:` token, () when there is none, None when the named person is nobody the viewer may see."""
    if query.author is None:
        return ()
    author = user_visible(viewer, query.author)
    return None if author is None else (author_token(author.pk),)


def search_posts(
    viewer, query: Query, *, cursor: str | None = None, limit: int = PAGE, with_originals: bool = True
) -> Page:
    """Posts matching `query` the viewer may see (muted authors left out), best first.
    `with_originals`: a repost's original joined (the pages show it; the API gives its id)."""
    state = decode_cursor(cursor, keys={"o": int, "t": int})
    if query.empty:
        return Page()
    author = _author_meta(viewer, query)
    if author is None:
        return Page()
    meta = (*author, *(tag_token(tag) for tag in query.tags))
    if viewer is None or not viewer.is_authenticated:
        meta += (PUBLIC_TOKEN,)  # a visitor sees fully public posts only: fill the window with them
    found = backend().candidates(POSTS, query, meta=meta, limit=CANDIDATES)
    if not found:
        return Page()
    now = state.get("t") or int(time.time())
    rows = {
        row["id"]: row
        for row in Post.objects.filter(pk__in=[pk for pk, _ in found]).values(
            "id", "created_at", "like_count", "repost_count", "reply_count"
        )
    }
    ranked = sorted(((_score(rel, rows[pk], now, query.has_text), pk) for pk, rel in found if pk in rows), reverse=True)
    ids = [pk for _, pk in ranked]
    offset = state.get("o", 0)
    visible: list[int] = []
    position = offset
    while position < len(ids) and len(visible) <= limit:
        chunk = ids[position : position + CHECK_CHUNK]
        allowed = _visible_ids(viewer, chunk)
        for index, pk in enumerate(chunk):
            if pk in allowed:
                visible.append(pk)
                if len(visible) > limit:
                    position += index
                    break
        else:
            position += len(chunk)
    more = len(visible) > limit
    page_ids = visible[:limit]
    # Visible: checked just above by the rule itself; here they are only presented. For the API and a
    # signed-in viewer through the feed's prepared statements (the queryset cost more than its SQL).
    if viewer is not None and viewer.is_authenticated and not with_originals:
        posts = presented_posts(viewer, page_ids, checked=True)
    else:
        posts = Post.objects.presented_to(viewer).select_related("original__author__avatar").in_bulk(page_ids)
    items = posts_with_media([posts[pk] for pk in page_ids if pk in posts])
    for post in items:
        post.highlight = highlight(post.body, query.marks)
    return Page(items, encode_cursor({"o": position, "t": now}) if more else None)


def search_articles(viewer, query: Query, *, limit: int = PAGE) -> list[Article]:
    """Published articles matching `query` the viewer may read (Article.objects.visible_to: drafts
    never, followers-only ones for followers, nothing across a block), best first: relevance
    times recency (of publication) times readership. `#tag` finds none: articles carry no tags."""
    if query.empty:
        return []
    author = _author_meta(viewer, query)
    if author is None:
        return []
    meta = (*author, *(tag_token(tag) for tag in query.tags))
    if viewer is None or not viewer.is_authenticated:
        meta += (PUBLIC_TOKEN,)
    found = dict(backend().candidates(ARTICLES, query, meta=meta, limit=CANDIDATES))
    if not found:
        return []
    articles = Article.objects.visible_to(viewer).published().filter(pk__in=list(found))
    articles = list(articles.select_related("author__avatar", "cover"))
    now = time.time()

    def score(article: Article) -> float:
        age_hours = max(0.0, now - article.published_at.timestamp()) / 3600
        readership = 1.0 + 0.25 * math.log1p(article.read_count)
        return (found[article.pk] if query.has_text else 1.0) * readership / (1.0 + age_hours / RECENCY_HOURS)

    articles.sort(key=lambda article: (score(article), article.pk), reverse=True)
    return articles[:limit]


def _people_query(query: Query) -> Query:
    """Names match as you type: every Latin word as a prefix (the people index has 1–3 letter prefixes)."""
    clauses = [
        Phrase(clause.tokens, prefix=True) if isinstance(clause, Phrase) and len(clause.tokens) == 1 else clause
        for clause in query.clauses
    ]
    return Query(clauses=clauses, marks=[(text, True) for text, _ in query.marks])


def search_people(viewer, query: Query, *, cursor: str | None = None, limit: int = PAGE) -> Page:
    """Active people whose username or display name has words starting with the query's, none hidden
    from the viewer by a block: whose username starts with the query first, then shorter names."""
    state = decode_cursor(cursor, keys={"o": int})
    if not query.has_text:
        return Page()
    query = _people_query(query)
    found = backend().candidates(PEOPLE, query, limit=CANDIDATES)
    if not found:
        return Page()
    users = list(
        User.objects.filter(pk__in=[pk for pk, _ in found], is_active=True)
        .exclude(pk__in=_hidden_from(viewer))
        .select_related("avatar")
    )
    typed = "".join(text for text, _ in query.marks)
    users.sort(key=lambda user: (not user.username.casefold().startswith(typed), len(user.username), user.username))
    offset = state.get("o", 0)
    page = users[offset : offset + limit]
    for user in page:
        user.highlight = highlight(user.username, query.marks)
        user.display_name_highlight = highlight(user.display_name, query.marks)
    more = offset + limit < len(users)
    return Page(page, encode_cursor({"o": offset + limit}) if more else None)


@dataclass
class TagHit:
    name: str


def search_tags(viewer, raw: str, *, cursor: str | None = None, limit: int = PAGE) -> Page:
    """Tags starting with the text (a leading # ignored) that some public post carries, by name.

    A range on the tag's unique index, never a scan; a tag only followers-only posts carry is
    not shown, so a suggestion never tells a stranger what a private post said.
    """
    state = decode_cursor(cursor, keys={"a": str})
    # PostgreSQL text cannot hold NUL (query.parse drops it the same way for the other parts).
    prefix = tag_name(raw.replace("\x00", "").strip().lstrip("#")).rstrip("#")
    if not prefix:
        return Page()
    public_use = PostTag.objects.filter(hashtag_id=OuterRef("pk"), post__fully_public=True, post__deleted_at=None)
    tags = Hashtag.objects.filter(name__gte=prefix, name__lt=prefix + "\U0010ffff", name__startswith=prefix)
    if state:
        tags = tags.filter(name__gt=state["a"])
    names = list(tags.filter(Exists(public_use)).order_by("name").values_list("name", flat=True)[: limit + 1])
    more = len(names) > limit
    names = names[:limit]
    return Page([TagHit(name) for name in names], encode_cursor({"a": names[-1]}) if more else None)


def search_messages(
    viewer, query: Query, *, conversation_id: int | None = None, cursor: str | None = None, limit: int = PAGE
) -> Page:
    """The viewer's messages matching `query`, newest first: in their conversations (or the one named,
    which must be theirs), as messages_seen_by shows them (from where their membership's view starts,
    nobody hidden by a block in a group), never a recalled one."""
    state = decode_cursor(cursor, keys={"b": int})
    if query.empty:
        return Page()
    memberships = Membership.objects.filter(user_id=viewer.pk)
    if conversation_id is not None:
        memberships = memberships.filter(conversation_id=conversation_id)
    conversations = list(memberships.values_list("conversation_id", flat=True))
    if not conversations:
        return Page()
    author = _author_meta(viewer, query)
    if author is None:
        return Page()
    below = state.get("b")
    items: list[Message] = []
    seen = messages_seen_by(viewer).filter(recalled_at__isnull=True)
    meta_any = tuple(conversation_token(pk) for pk in conversations)
    # A few rounds at most: each reads the next CANDIDATES index entries below the last.
    for _ in range(4):
        found = backend().candidates(MESSAGES, query, meta=author, meta_any=meta_any, limit=CANDIDATES, below=below)
        if not found:
            break
        ids = [pk for pk, _ in found]
        allowed = set(seen.filter(pk__in=ids).values_list("pk", flat=True))
        for pk in ids:
            if pk in allowed:
                items.append(pk)
            below = pk
            if len(items) > limit:
                break
        if len(items) > limit or len(found) < CANDIDATES:
            break
    more = len(items) > limit
    page_ids = items[:limit]
    messages = Message.objects.select_related("sender__avatar", "conversation").in_bulk(page_ids)
    rows = messages_with_media([messages[pk] for pk in page_ids if pk in messages])
    for message in rows:
        message.highlight = highlight(message.body, query.marks)
    return Page(rows, encode_cursor({"b": page_ids[-1]}) if more else None)


def parse_query(raw: str) -> Query:
    return parse(raw)
