"""Reach, for a post's author: reads, likes, replies and reposts over time, and the repost cascade.

The cascade is every repost whose chain passes through the post (PostAncestor, via_repost) that the
author may see (`visible_to(author)`: a blocked person's repost, a deleted one, drop out). A repost
that came through one the author may not see hangs from the nearest one above it they may see (or
the post), and depths are counted on that shown tree, so nothing hidden shows even as a gap. Replies
are counted only as the author may see them (a followers-only reply by someone the author does not
follow is not counted, nor shown).

"Reach through a repost" is the reads of the repost and of every repost below it (sums of each
post's distinct readers: a person who saw two reposts counts in both). Shares are of the total
reads of the post and its whole shown cascade.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import log1p
from xml.sax.saxutils import escape

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncHour

from .models import Like, Post, PostAncestor, PostRead
from .reads import reads_fold
from .selectors import posts_visible

HOURLY_SPAN = timedelta(hours=48)
TOP_REPOSTERS = 5
# The picture: time across in this many columns, depth down in rows, deeper levels in the last row.
PLOT_COLUMNS = 48
PLOT_ROWS = 12
# Post ids per query (SQLite allows 32,766 parameters).
ID_CHUNK = 5000


@dataclass
class CascadeNode:
    id: int
    parent: int | None  # the repost it came through; None: straight from the post
    username: str
    depth: int
    created_at: datetime
    reads: int
    reach: int = 0  # its reads and those of every repost below it


def _shown_cascade(post: Post) -> list[CascadeNode]:
    """The reposts under `post` its author may see, each hung from the nearest shown one above it."""
    chain = PostAncestor.objects.filter(ancestor=post, via_repost=True).values("post_id")
    every = dict(Post.objects.filter(pk__in=chain).values_list("pk", "repost_of_id"))
    shown = (
        posts_visible(post.author)
        .filter(pk__in=chain)
        .order_by("created_at", "pk")
        .values_list("pk", "repost_of_id", "author__username", "created_at", "read_count")
    )
    nodes: dict[int, CascadeNode] = {}
    rows = list(shown)
    shown_ids = {row[0] for row in rows}
    for pk, repost_of_id, username, created_at, read_count in rows:
        parent = repost_of_id
        while parent is not None and parent != post.pk and parent not in shown_ids:
            parent = every.get(parent)
        parent = None if parent in (None, post.pk) else parent
        nodes[pk] = CascadeNode(pk, parent, username, 0, created_at, read_count)
    # A repost is younger than the one it came through, so creation order visits parents first;
    # depth by following parents (memoised) in case two share a timestamp.
    for node in nodes.values():
        _depth(node, nodes)
    for node in sorted(nodes.values(), key=lambda n: -n.depth):
        node.reach += node.reads
        if node.parent is not None:
            nodes[node.parent].reach += node.reach
    return list(nodes.values())


def _depth(node: CascadeNode, nodes: dict[int, CascadeNode]) -> int:
    if not node.depth:
        node.depth = 1 if node.parent is None else _depth(nodes[node.parent], nodes) + 1
    return node.depth


def _bucket(moment: datetime, start: datetime) -> tuple[datetime, str]:
    """Hourly for the first 48 h after the post, daily after."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    if moment < start + HOURLY_SPAN:
        return hour, "hour"
    return hour.replace(hour=0), "day"


def _series(post: Post, cascade: list[CascadeNode]) -> list[dict]:
    start_hour = post.created_at.replace(minute=0, second=0, microsecond=0)
    counts: dict[tuple[datetime, str], Counter] = defaultdict(Counter)
    # The reads of the post and of its shown cascade, by id in chunks: as a subquery of the
    # visibility rule, PostgreSQL scanned every read there is (over a minute at 1M reads).
    read_ids = [post.pk, *(node.id for node in cascade)]
    for start in range(0, len(read_ids), ID_CHUNK):
        rows = (
            PostRead.objects.filter(post_id__in=read_ids[start : start + ID_CHUNK])
            .annotate(hour=TruncHour("created_at"))
            .values("hour")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            counts[_bucket(row["hour"], start_hour)]["reads"] += row["n"]
    for model_rows, name in (
        (
            Like.objects.filter(post_id=post.pk)
            .annotate(hour=TruncHour("created_at"))
            .values("hour")
            .annotate(n=Count("pk")),
            "likes",
        ),
        (
            posts_visible(post.author)
            .filter(reply_to_id=post.pk)
            .annotate(hour=TruncHour("created_at"))
            .values("hour")
            .annotate(n=Count("pk")),
            "replies",
        ),
    ):
        for row in model_rows.order_by():
            counts[_bucket(row["hour"], start_hour)][name] += row["n"]
    for node in cascade:
        counts[_bucket(node.created_at, start_hour)]["reposts"] += 1
    return [
        {
            "start": moment,
            "span": span,
            "reads": tally["reads"],
            "likes": tally["likes"],
            "replies": tally["replies"],
            "reposts": tally["reposts"],
        }
        for (moment, span), tally in sorted(counts.items())
    ]


def reach_of(post: Post) -> dict:
    """Everything the author's reach view shows: series, cascade, summary and the picture."""
    if settings.READS_BUFFER == "memory":
        reads_fold()  # this process holds the reads not folded yet: count them first
        post.refresh_from_db(fields=["read_count"])
    cascade = _shown_cascade(post)
    by_level = Counter(node.depth for node in cascade)
    total = post.read_count + sum(node.reads for node in cascade)
    top = sorted(cascade, key=lambda node: (-node.reach, node.id))[:TOP_REPOSTERS]
    return {
        "post": post.pk,
        "reads": post.read_count,
        "likes": post.like_count,
        "replies": posts_visible(post.author).filter(reply_to_id=post.pk).count(),
        "reposts": len(cascade),
        "total_reads": total,
        "series": _series(post, cascade),
        "cascade": [
            {
                "id": node.id,
                "parent": node.parent,
                "username": node.username,
                "depth": node.depth,
                "created_at": node.created_at,
                "reads": node.reads,
            }
            for node in sorted(cascade, key=lambda n: (n.created_at, n.id))
        ],
        "summary": {
            "depth": max(by_level, default=0),
            "breadth": max(by_level.values(), default=0),
            "levels": [by_level[level] for level in range(1, max(by_level, default=0) + 1)],
            "top_reposters": [
                {
                    "username": node.username,
                    "repost": node.id,
                    "reads": node.reach,
                    "share": round(node.reach / total, 4) if total else 0.0,
                }
                for node in top
                if node.reach
            ],
        },
        "plot": cascade_svg(post, cascade),
    }


def cascade_svg(post: Post, cascade: list[CascadeNode]) -> str:
    """The cascade as depth over time, drawn server-side: a grid of PLOT_COLUMNS time slices (from the
    post to its last repost) by depth (levels past PLOT_ROWS - 1 share the last row), each cell's
    shade the log of the reposts in it. At 10,000 reposts it is still at most 48 x 12 cells: the
    reposts are aggregated into cells, never drawn one by one. <title> and <desc> carry the text
    alternative (the counts per level); the page also lists them."""
    cell_w, cell_h, left, top_margin = 12, 18, 56, 8
    width = left + PLOT_COLUMNS * cell_w + 8
    levels = Counter(node.depth for node in cascade)
    rows = min(max(levels, default=1), PLOT_ROWS)
    height = top_margin + rows * cell_h + 28
    start = post.created_at
    end = max((node.created_at for node in cascade), default=start)
    span = max((end - start).total_seconds(), 1.0)
    cells: Counter = Counter()
    for node in cascade:
        column = min(int((node.created_at - start).total_seconds() / span * PLOT_COLUMNS), PLOT_COLUMNS - 1)
        cells[(column, min(node.depth, rows))] += 1
    densest = max(cells.values(), default=1)
    parts = []
    for (column, row), count in sorted(cells.items()):
        shade = 0.15 + 0.85 * log1p(count) / log1p(densest)
        parts.append(
            f'<rect x="{left + column * cell_w}" y="{top_margin + (row - 1) * cell_h}" width="{cell_w - 1}" '
            f'height="{cell_h - 2}" fill="currentColor" fill-opacity="{shade:.2f}"><title>{count} at depth '
            f"{row}{'+' if row == PLOT_ROWS and max(levels, default=0) > PLOT_ROWS else ''}</title></rect>"
        )
    labels = [
        f'<text x="{left - 6}" y="{top_margin + (row - 1) * cell_h + 13}" text-anchor="end" font-size="11">'
        f"{row}{'+' if row == PLOT_ROWS and max(levels, default=0) > PLOT_ROWS else ''}</text>"
        for row in range(1, rows + 1)
    ]
    hours = span / 3600
    summary = ", ".join(f"depth {level}: {levels[level]}" for level in sorted(levels)) or "no reposts yet"
    description = escape(f"Reposts by depth over {hours:.1f} hours after the post: {summary}.")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="reach-plot" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="reach-plot-title reach-plot-desc">'
        f'<title id="reach-plot-title">Repost cascade: depth over time</title>'
        f'<desc id="reach-plot-desc">{description}</desc>'
        f"{''.join(labels)}{''.join(parts)}"
        f'<text x="{left}" y="{height - 8}" font-size="11">0 h</text>'
        f'<text x="{width - 8}" y="{height - 8}" font-size="11" text-anchor="end">{hours:.1f} h</text>'
        f'<text x="4" y="{height - 8}" font-size="11">depth</text>'
        "</svg>"
    )
