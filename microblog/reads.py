"""Reads (Weibo's 阅读数): the distinct signed-in people each post was shown to, counted without a
write per page view.

A page that shows posts calls `reads_record(viewer, posts)` with what it showed (drawn through the
visibility rule, so a viewer who may not see a post never reaches here); the author's own views are
dropped. The (post, viewer) pairs wait in a buffer and are folded into `PostRead` rows in batches,
and each touched post's `read_count` is set to its row count:

- "redis" (the default with REDIS_URL): a hash `READS_REDIS_KEY` of "post:viewer" -> first-seen
  time, filled with HSETNX in one pipeline, so a page of 20 costs one round trip. Exact, not a
  HyperLogLog: every pair is kept until folded and PostRead's unique constraint dedupes, so the
  count is the true distinct count (error bound 0), and reach needs the rows anyway (reads over
  time, reads per repost, 30-day reads per author). The fold (beat, every READS_FOLD_INTERVAL:
  microblog.tasks.fold_reads) RENAMEs the hash away atomically first, so views recorded during a
  fold land in a fresh hash and none is lost; a fold that dies leaves its renamed hash for the next.
- "memory" (the embedded default): a dict in this process, folded in the request that finds
  READS_FOLD_THRESHOLD pairs waiting or the oldest older than READS_FOLD_INTERVAL, and before
  anything reads the counts back here (reach, compute_reach). Lost if the process dies unfolded:
  at most an interval of reads, which the embedded default accepts.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User

from .models import Post, PostRead

logger = logging.getLogger(__name__)

# Weibo's humanised numbers: 万 (10^4) and 亿 (10^8) in Chinese, K/M/B elsewhere.
CHINESE_UNITS = ((100_000_000, "亿"), (10_000, "万"))
WESTERN_UNITS = ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K"))
# PostRead's table (a fixed name: microblog_postread), written by hand in folds.
INSERT_READ = "INSERT INTO microblog_postread (post_id, user_id, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
INSERT_READS_UNNEST = (
    "INSERT INTO microblog_postread (post_id, user_id, created_at) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) ON CONFLICT DO NOTHING"
)
# Posts per count UPDATE (and ids per lookup) in a fold: well under SQLite's 32,766 variables.
FOLD_BATCH = 5000
# Reads per transaction in a fold: each commit is a sync to disk.
FOLD_INSERT_BATCH = 50_000


def _pairs(viewer, posts: Iterable[Post]) -> set[tuple[int, int]]:
    if viewer is None or not viewer.is_authenticated:
        return set()
    return {(post.pk, viewer.pk) for post in posts if post is not None and post.author_id != viewer.pk}


def reads_record(viewer, posts: Iterable[Post]) -> None:
    """Counts `posts` as read by `viewer` (they were just shown to them): one buffer write, no query."""
    pairs = _pairs(viewer, posts)
    if pairs:
        buffer().add(pairs, time.time())


def reads_fold() -> int:
    """Folds everything buffered so far into PostRead and the posts' read_count; the pairs folded."""
    return buffer().fold()


def fold_pairs(pairs: Iterable[tuple[int, int, float]]) -> int:
    """Stores (post id, viewer id, unix time) reads: new rows in bulk (a pair already read is skipped
    by the unique constraint), then every touched post's read_count recounted from its rows (so a
    fold run twice, or two at once, still counts each person once)."""
    pairs = list(pairs)
    if not pairs:
        return 0
    # Posts and people may have gone (a user deleted) since the view: their pairs are dropped.
    post_ids = {post_id for post_id, _, _ in pairs}
    user_ids = {user_id for _, user_id, _ in pairs}
    live_posts = _existing(Post, post_ids)
    live_users = _existing(User, user_ids)
    # Many reads share a second (a page, a busy minute): each time is converted once. Floored, never
    # rounded up: a read must not land after the moment it was seen (a window ending now holds it).
    stamps: dict[float, object] = {}

    def stamp(seen: float):
        if seen not in stamps:
            stamps[seen] = connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(seen, tz=UTC))
        return stamps[seen]

    rows = [
        (post_id, user_id, stamp(float(int(seen))))
        for post_id, user_id, seen in pairs
        if post_id in live_posts and user_id in live_users
    ]
    # Plain executemany, not bulk_create: building a model instance per read was most of a fold's
    # time. ON CONFLICT DO NOTHING (SQLite 3.24+, PostgreSQL) skips people already counted.
    for start in range(0, len(rows), FOLD_INSERT_BATCH):
        batch = rows[start : start + FOLD_INSERT_BATCH]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement of three arrays: executemany costs PostgreSQL a round trip per row.
                cursor.execute(INSERT_READS_UNNEST, [list(column) for column in zip(*batch, strict=True)])
            else:
                cursor.executemany(INSERT_READ, batch)
    touched = sorted(live_posts)
    counted = (
        PostRead.objects.filter(post_id=OuterRef("pk")).order_by().values("post_id").annotate(n=Count("pk")).values("n")
    )
    for start in range(0, len(touched), FOLD_BATCH):
        Post.objects.filter(pk__in=touched[start : start + FOLD_BATCH]).update(
            read_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
        )
    return len(rows)


def _existing(model, ids: set[int]) -> set[int]:
    ordered = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(ordered), FOLD_BATCH):
        found.update(model.objects.filter(pk__in=ordered[start : start + FOLD_BATCH]).values_list("pk", flat=True))
    return found


class MemoryBuffer:
    """Pairs waiting in this process (the embedded default); folded on a threshold or an age."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, int], float] = {}
        self._oldest: float | None = None

    def add(self, pairs: set[tuple[int, int]], seen: float) -> None:
        with self._lock:
            for pair in pairs:
                self._pending.setdefault(pair, seen)
            if self._oldest is None:
                self._oldest = seen
            due = len(self._pending) >= settings.READS_FOLD_THRESHOLD or (
                seen - self._oldest >= settings.READS_FOLD_INTERVAL.total_seconds()
            )
        if due:
            self.fold()

    def _take(self) -> dict[tuple[int, int], float]:
        with self._lock:
            taken, self._pending, self._oldest = self._pending, {}, None
        return taken

    def fold(self) -> int:
        taken = self._take()
        return fold_pairs((post_id, user_id, seen) for (post_id, user_id), seen in taken.items())

    def waiting(self) -> int:
        return len(self._pending)

    def discard(self) -> None:
        self._take()


class RedisBuffer:
    """Pairs waiting in a Redis hash shared by every worker; folded by beat (fold_reads)."""

    def __init__(self, url: str, key: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=15)
        self.key = key
        self.errors = redis.RedisError

    def add(self, pairs: set[tuple[int, int]], seen: float) -> None:
        # HSETNX keeps the first time each person saw the post; one pipeline, one round trip.
        pipe = self.client.pipeline(transaction=False)
        stamp = f"{seen:.3f}"
        for post_id, user_id in pairs:
            pipe.hsetnx(self.key, f"{post_id}:{user_id}", stamp)
        try:
            pipe.execute()
        except self.errors as error:
            # A page must not fail because Redis is away: these views go uncounted.
            logger.warning("reads not recorded (%s pairs): %s", len(pairs), error)

    def fold(self) -> int:
        # Leftovers of a fold that died first, then what is waiting now (renamed away atomically:
        # views recorded meanwhile start a fresh hash).
        folding = [key.decode() for key in self.client.scan_iter(match=f"{self.key}:folding:*")]
        fresh = f"{self.key}:folding:{uuid.uuid4().hex}"
        try:
            self.client.rename(self.key, fresh)
            folding.append(fresh)
        except self.errors as error:  # ResponseError "no such key": nothing is waiting
            if "no such key" not in str(error).lower():
                raise
        folded = 0
        for key in folding:
            batch: list[tuple[int, int, float]] = []
            for field, stamp in self.client.hscan_iter(key, count=FOLD_BATCH):
                post_id, user_id = field.split(b":")
                batch.append((int(post_id), int(user_id), float(stamp)))
                if len(batch) >= FOLD_BATCH * 10:
                    folded += fold_pairs(batch)
                    batch = []
            folded += fold_pairs(batch)
            self.client.delete(key)
        return folded

    def waiting(self) -> int:
        return self.client.hlen(self.key)

    def discard(self) -> None:
        self.client.delete(self.key, *self.client.scan_iter(match=f"{self.key}:folding:*"))


@cache
def _buffer(kind: str, url: str, key: str):
    if kind == "redis":
        return RedisBuffer(url, key)
    return MemoryBuffer()


def buffer() -> MemoryBuffer | RedisBuffer:
    """The process's buffer for the configured kind (settings may change in tests)."""
    return _buffer(settings.READS_BUFFER, settings.REDIS_URL, settings.READS_REDIS_KEY)


def read_count_label(count: int, *, chinese: bool) -> str:
    """A read count as Weibo shows it: "1.2万 reads" in Chinese, "12.3K reads" otherwise."""
    units = CHINESE_UNITS if chinese else WESTERN_UNITS
    for size, unit in units:
        if count >= size:
            shown = f"{count / size:.1f}".removesuffix(".0")
            return f"{shown}{unit} reads"
    return f"{count} read" + ("" if count == 1 else "s")


def prefers_chinese(request) -> bool:
    """Whether the request's first Accept-Language is a Chinese one."""
    header = (request.META.get("HTTP_ACCEPT_LANGUAGE", "") if request is not None else "").strip().lower()
    return header.startswith("zh")
