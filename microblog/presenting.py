"""A page of posts for the API, read through queries built once (`common.prepared.Prepared`).

Building the ORM queryset of a presented page (the visibility rule, the viewer's flags, the
reply count the viewer may see, the author and avatar joined) cost ~10–15 ms of Python for
well under a millisecond of SQL, on every feed page. Here the same querysets are built once per
shape, with stand-in values, and their SQL runs again with each page's viewer and ids: the very
statement the ORM builds (Prepared checks that every argument reaches it as a parameter).

Ids go in as one argument each, the list padded with 0 (no post has it) to one of `SIZES`, so
each size is prepared once. Rows come back as model instances (`Model.from_db`, as the ORM makes
them), the author's and the avatar's unselected fields deferred, so anything that reads them
still gets the truth (a query), never a default.

The HTML pages keep the ORM querysets (`rankers._presented`): they also show the original of a
repost, which the API gives as an id.
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS

from accounts.models import User
from common.prepared import Prepared
from media.models import Media

from .models import Post

SIZES = (20, 50, 100, 200, 500, 1000)
# Prepared queries run on the default database (as the querysets they are built from do).
DB = DEFAULT_DB_ALIAS

_POST_FIELDS = [field.attname for field in Post._meta.concrete_fields]
_FLAGS = ("visible_reply_count", "viewer_liked", "viewer_reposted", "viewer_bookmarked")
# In User's field order (from_db takes the given fields in the model's order).
_AUTHOR_FIELDS = ["id", "username", "display_name", "avatar_id", "verification"]
_COLUMNS = (
    *_POST_FIELDS,
    *_FLAGS,
    *(f"author__{name}" for name in _AUTHOR_FIELDS),
    "author__avatar__key",
)


@cache
def _rows_query(*, checked: bool, newest: int | None) -> Prepared:
    """`checked`: the ids were drawn through the visibility rule in this request (a fresh ranking).
    `newest`: only the newest that many (the LIMIT is part of the statement: one Prepared each)."""

    def build(viewer_id: int, *ids: int):
        viewer = User(pk=viewer_id)
        posts = Post.objects.all() if checked else Post.objects.visible_to(viewer).not_muted_by(viewer)
        rows = posts.presented_to(viewer).filter(pk__in=ids).values_list(*_COLUMNS)
        return rows if newest is None else rows.order_by("-id")[:newest]

    return Prepared(build)


def _chunks(ids: list[int]):
    """`ids` in runs of at most the largest size, each padded with 0 to the nearest size."""
    for start in range(0, len(ids), SIZES[-1]):
        chunk = ids[start : start + SIZES[-1]]
        size = next(size for size in SIZES if size >= len(chunk))
        yield (*chunk, *(0,) * (size - len(chunk)))


def _post_of(row: tuple) -> Post:
    posts, flags = len(_POST_FIELDS), len(_FLAGS)
    post = Post.from_db(DB, _POST_FIELDS, row[:posts])
    for name, value in zip(_FLAGS, row[posts : posts + flags], strict=True):
        setattr(post, name, value)
    author_values = row[posts + flags : posts + flags + len(_AUTHOR_FIELDS)]
    author = User.from_db(DB, _AUTHOR_FIELDS, author_values)
    if author.avatar_id is not None:
        author.avatar = Media.from_db(DB, ["id", "key"], (author.avatar_id, row[-1]))
    post.author = author
    return post


def presented_posts(viewer, ids: list[int], *, checked: bool = False) -> dict[int, Post]:
    """The posts among `ids` the viewer may see *now* (deleted, blocked or muted since drop out),
    presented as `PostQuerySet.presented_to` presents them (author and avatar joined, the viewer's
    flags and reply count): one query per 1,000 ids. `checked`: visibility was already checked in
    this request. For a signed-in viewer."""
    rows = _rows_query(checked=checked, newest=None)
    found: dict[int, Post] = {}
    for chunk in _chunks(list(ids)):
        for row in rows(viewer.pk, *chunk):
            post = _post_of(row)
            found[post.pk] = post
    return found


def newest_presented(viewer, ids: list[int], *, count: int) -> list[Post]:
    """The newest `count` posts among `ids` (at most 1,000) the signed-in viewer may see, muted
    authors left out, presented (as `presented_posts`): one query."""
    if len(ids) > SIZES[-1]:
        raise ValueError(f"at most {SIZES[-1]} ids")
    (chunk,) = _chunks(list(ids))
    return [_post_of(row) for row in _rows_query(checked=False, newest=count)(viewer.pk, *chunk)]
