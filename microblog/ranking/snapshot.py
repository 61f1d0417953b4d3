"""Ranked-feed snapshots and cursors.

A ranked order shifts between two requests (recency decay, new likes, and the
diversity pass makes each score depend on what ranks above it), so pages cannot be
cut by score. The first page stores the whole ranked list (ids, scores, reasons) in
the Django cache (Redis when REDIS_URL is set, so every worker sees it) under a
random id; the cursor names that id and an offset, and later pages read from it.

The cursor is `r.<snapshot>.<offset>` for the ranked feed and `l.<post id>` for the
latest one. A snapshot belongs to one viewer: its key holds their id.
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class RankedCursor:
    snapshot: str
    offset: int


@dataclass(frozen=True)
class LatestCursor:
    before: int


def _key(viewer_id: int, snapshot: str) -> str:
    return f"feed:snapshot:{viewer_id}:{snapshot}"


def snapshot_store(*, viewer_id: int, entries: list[tuple[int, float, list[str]]]) -> str:
    snapshot = secrets.token_urlsafe(9)
    cache.set(_key(viewer_id, snapshot), entries, settings.FEED_SNAPSHOT_TTL.total_seconds())
    return snapshot


def snapshot_load(*, viewer_id: int, snapshot: str) -> list[tuple[int, float, list[str]]] | None:
    return cache.get(_key(viewer_id, snapshot))


def cursor_encode(cursor: RankedCursor | LatestCursor) -> str:
    if isinstance(cursor, RankedCursor):
        return f"r.{cursor.snapshot}.{cursor.offset}"
    return f"l.{cursor.before}"


def cursor_decode(text: str) -> RankedCursor | LatestCursor:
    kind, _, rest = text.partition(".")
    if kind == "l" and rest.isdigit() and len(rest) < 19:
        return LatestCursor(before=int(rest))
    if kind == "r":
        snapshot, _, offset = rest.rpartition(".")
        if re.fullmatch(r"[A-Za-z0-9_-]{1,32}", snapshot) and offset.isdigit() and len(offset) < 7:
            return RankedCursor(snapshot=snapshot, offset=int(offset))
    raise InvalidCursor(text)
